import { ZodError } from 'zod';

export type TaskErrorCode =
  | 'INVALID_PAYLOAD'
  | 'PATH_REFUSED'
  | 'NOT_FOUND'
  | 'NOT_A_FILE'
  | 'NOT_A_FOLDER'
  | 'TOO_LARGE'
  | 'PERMISSION_DENIED'
  | 'NO_SPACE'
  | 'INTERRUPTED'
  | 'FAILED';

/** A task failure with a code; its message is a plain sentence that goes to the cloud as `error`. */
export class TaskError extends Error {
  constructor(
    readonly code: TaskErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TaskError';
  }
}

const ERRNO: Record<string, [TaskErrorCode, string]> = {
  ENOENT: ['NOT_FOUND', 'no such file or folder'],
  EACCES: ['PERMISSION_DENIED', 'permission denied'],
  EPERM: ['PERMISSION_DENIED', 'operation not permitted'],
  EISDIR: ['NOT_A_FILE', 'the path is a folder'],
  ENOTDIR: ['NOT_A_FOLDER', 'a part of the path is not a folder'],
  ELOOP: ['PATH_REFUSED', 'the path is a symbolic link'],
  ENOSPC: ['NO_SPACE', 'no space left on the device'],
  EDQUOT: ['NO_SPACE', 'disk quota exceeded'],
  EROFS: ['PERMISSION_DENIED', 'the file system is read-only'],
};

/** Anything thrown while running a task, as a TaskError without a stack trace or internals. */
export function toTaskError(err: unknown, subject?: string): TaskError {
  if (err instanceof TaskError) return err;
  if (err instanceof ZodError) {
    const issues = err.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');
    return new TaskError('INVALID_PAYLOAD', `invalid task payload: ${issues}`);
  }
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const known = code ? ERRNO[code] : undefined;
  if (known) return new TaskError(known[0], subject ? `${known[1]}: ${subject}` : known[1]);
  const message = err instanceof Error ? err.message : String(err);
  return new TaskError('FAILED', message.split('\n')[0] || 'the task failed');
}
