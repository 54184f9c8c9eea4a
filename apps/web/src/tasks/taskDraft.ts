import type { TaskSpec, TaskType } from '@canopy/protocol';
import { SITUATIONS } from '../api/messages';

/** The "Run a task" form as typed; only the fields of the chosen type are sent. */
export interface TaskDraft {
  type: TaskType;
  command: string;
  cwd: string;
  timeoutS: string;
  path: string;
  content: string;
}

export const EMPTY_DRAFT: TaskDraft = {
  type: 'status_ping',
  command: '',
  cwd: '',
  timeoutS: '',
  path: '',
  content: '',
};

/** Field keys as the server names them in VALIDATION_ERROR, so both kinds of error land on one field. */
export const DRAFT_FIELDS = [
  'payload.command',
  'payload.cwd',
  'payload.timeout_ms',
  'payload.path',
  'payload.content',
] as const;

type Result = { spec: TaskSpec; errors?: undefined } | { spec?: undefined; errors: Record<string, string> };

/** The request body for the draft, or what is missing from it. */
export function toTaskSpec(draft: TaskDraft): Result {
  const path = draft.path.trim();
  switch (draft.type) {
    case 'status_ping':
    case 'system_info':
      return { spec: { type: draft.type, payload: {} } };
    case 'file_read':
      if (!path) return { errors: { 'payload.path': SITUATIONS.pathMissing } };
      return { spec: { type: 'file_read', payload: { path } } };
    case 'file_write':
      if (!path) return { errors: { 'payload.path': SITUATIONS.pathMissing } };
      return { spec: { type: 'file_write', payload: { path, content: draft.content, encoding: 'utf8' } } };
    case 'shell':
      return shellSpec(draft);
  }
}

function shellSpec(draft: TaskDraft): Result {
  const errors: Record<string, string> = {};
  const command = draft.command.trim();
  if (!command) errors['payload.command'] = SITUATIONS.commandMissing;
  const timeout = draft.timeoutS.trim();
  const seconds = Number(timeout);
  if (timeout && !(Number.isInteger(seconds) && seconds >= 1 && seconds <= 3600)) {
    errors['payload.timeout_ms'] = SITUATIONS.timeoutInvalid;
  }
  if (Object.keys(errors).length > 0) return { errors };
  const cwd = draft.cwd.trim();
  return {
    spec: {
      type: 'shell',
      payload: {
        command,
        ...(cwd ? { cwd } : {}),
        ...(timeout ? { timeout_ms: seconds * 1000 } : {}),
      },
    },
  };
}
