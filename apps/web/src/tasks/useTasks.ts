import type { Task } from '@canopy/protocol';
import { agentsApi } from '../api/agents';
import { usePolled } from '../ui/usePolled';
import { isFinal } from './taskText';

/** While a task is still on its way, its status is asked for this often. */
const ACTIVE_REFRESH_MS = 2000;

/** A node's tasks, newest first; refreshed every 2 s while any of them is not finished. */
export function useTasks(agentId: string) {
  const polled = usePolled(
    (signal) => agentsApi.tasks(agentId, signal),
    (data) => (data?.tasks.some((task) => !isFinal(task.status)) ? ACTIVE_REFRESH_MS : null),
  );

  /** Shows a task created on this page at once, before the next refresh brings it. */
  function add(task: Task) {
    polled.setData((current) => ({
      tasks: [task, ...(current?.tasks ?? []).filter((t) => t.id !== task.id)],
    }));
    // A refresh already on its way may predate the task: ask again so the newest answer has it.
    void polled.reload();
  }

  return { tasks: polled.data?.tasks ?? null, error: polled.error, add };
}
