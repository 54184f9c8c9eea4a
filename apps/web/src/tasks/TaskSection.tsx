import { useState } from 'react';
import { errorMessage } from '../api/messages';
import { ErrorAlert } from '../ui/Alert';
import { RunTaskForm } from './RunTaskForm';
import { TaskList } from './TaskList';
import { useTasks } from './useTasks';

/** Running tasks on one node and following them to their result. */
export function TaskSection({ agentId, online }: { agentId: string; online: boolean }) {
  const { tasks, error, add } = useTasks(agentId);
  const [runHere, setRunHere] = useState<ReadonlySet<string>>(new Set());

  return (
    <>
      <RunTaskForm
        agentId={agentId}
        online={online}
        onCreated={(task) => {
          setRunHere((ids) => new Set(ids).add(task.id));
          add(task);
        }}
      />
      <section className="section" aria-labelledby="tasks-title">
        <h2 id="tasks-title">Tasks</h2>
        <ErrorAlert>{error ? errorMessage(error) : null}</ErrorAlert>
        {!(error && tasks === null) && <TaskList tasks={tasks} runHere={runHere} />}
      </section>
    </>
  );
}
