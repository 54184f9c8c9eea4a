import { FINAL_TASK_STATUSES, type Task, type TaskStatus, type TaskType } from '@canopy/protocol';

/** In the order of the "Run a task" menu. */
export const TASK_TYPE_LABELS: Record<TaskType, string> = {
  status_ping: 'Ping',
  system_info: 'System info',
  shell: 'Shell command',
  file_read: 'Read a file',
  file_write: 'Write a file',
};

export const TASK_TYPES = Object.keys(TASK_TYPE_LABELS) as TaskType[];

const STATUS_LABELS: Record<TaskStatus, string> = {
  queued: 'Queued',
  delivered: 'Delivered',
  pending_approval: 'Waiting for approval',
  running: 'Running',
  done: 'Done',
  error: 'Failed',
  rejected: 'Rejected',
  timeout: 'Timed out',
};

const STATUS_TONES: Record<TaskStatus, 'accent' | 'muted' | 'waiting' | 'danger'> = {
  queued: 'muted',
  delivered: 'muted',
  pending_approval: 'waiting',
  running: 'waiting',
  done: 'accent',
  error: 'danger',
  rejected: 'danger',
  timeout: 'danger',
};

export function statusLabel(status: TaskStatus): string {
  return STATUS_LABELS[status];
}

export function statusBadgeClass(status: TaskStatus): string {
  return `badge badge-${STATUS_TONES[status]}`;
}

export function isFinal(status: TaskStatus): boolean {
  return (FINAL_TASK_STATUSES as readonly TaskStatus[]).includes(status);
}

/** What the task is about in one line: the command or the path; null for tasks without a subject. */
export function taskSubject(task: Pick<Task, 'type' | 'payload'>): string | null {
  const { command, path } = task.payload;
  if (task.type === 'shell' && typeof command === 'string') return command;
  if ((task.type === 'file_read' || task.type === 'file_write') && typeof path === 'string') return path;
  return null;
}
