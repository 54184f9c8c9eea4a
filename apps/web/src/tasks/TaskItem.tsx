import type { Task } from '@canopy/protocol';
import { useState } from 'react';
import { formatDateTime } from '../ui/format';
import { TaskResult } from './TaskResult';
import { statusBadgeClass, statusLabel, TASK_TYPE_LABELS, taskSubject } from './taskText';

function Time({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={iso}>
      {formatDateTime(iso)}
    </time>
  );
}

/** One task: what it is, where it stands, and its result behind a disclosure. */
export function TaskItem({ task, defaultOpen }: { task: Task; defaultOpen: boolean }) {
  const [open, setOpen] = useState(defaultOpen);
  const subject = taskSubject(task);

  return (
    <li className="task">
      <div className="task-head">
        <span className="task-type">{TASK_TYPE_LABELS[task.type]}</span>
        {subject && (
          <code className="task-subject" title={subject}>
            {subject}
          </code>
        )}
        <span className={statusBadgeClass(task.status)}>{statusLabel(task.status)}</span>
      </div>
      <p className="task-times">
        Created <Time iso={task.created_at} />
        {task.finished_at && (
          <>
            {' · '}Finished <Time iso={task.finished_at} />
          </>
        )}
      </p>
      {task.status === 'pending_approval' && (
        <p className="approval">
          Waiting for approval on the node: run <code>canopy-node approve {task.id}</code> there.
        </p>
      )}
      <details className="task-result" open={open} onToggle={(event) => setOpen(event.currentTarget.open)}>
        <summary>Result</summary>
        <TaskResult task={task} />
      </details>
    </li>
  );
}
