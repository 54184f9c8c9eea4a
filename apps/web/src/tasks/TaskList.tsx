import type { Task } from '@canopy/protocol';
import { TaskItem } from './TaskItem';

interface TaskListProps {
  tasks: Task[] | null;
  /** Tasks run from this page open their result by themselves. */
  runHere: ReadonlySet<string>;
}

export function TaskList({ tasks, runHere }: TaskListProps) {
  if (tasks === null) {
    return (
      <p className="empty" role="status">
        Loading…
      </p>
    );
  }
  if (tasks.length === 0) return <p className="empty">No tasks yet. Run one above.</p>;
  return (
    <ul className="task-list" aria-label="Tasks, newest first">
      {tasks.map((task) => (
        <TaskItem key={task.id} task={task} defaultOpen={runHere.has(task.id)} />
      ))}
    </ul>
  );
}
