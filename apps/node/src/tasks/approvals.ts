import { randomBytes } from 'node:crypto';
import { link, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { type TaskSpec, TaskType } from '@canopy/protocol';
import { z } from 'zod';
import {
  ensurePrivateFolder,
  listRecordIds,
  readJson,
  recordFile,
  removeFile,
  type TaskPaths,
  taskPaths,
} from './store';

/*
 * Approvals go through files so that the CLI (`canopy-node pending | approve <id> | reject <id>`), a
 * separate process, needs neither the daemon's socket nor its credentials: it writes a decision file and
 * the daemon, watching the folder, acts on it. Whoever can write the node's home can approve; that is the
 * node's own user, the same one the tasks run as.
 */

export const PendingRecord = z.object({
  id: z.uuid(),
  type: TaskType,
  created_at: z.string(),
  received_at: z.string(),
  /** What the owner needs to decide: the command, the path, the size, never a file's whole content. */
  summary: z.record(z.string(), z.unknown()),
  payload: z.record(z.string(), z.unknown()),
});
export type PendingRecord = z.infer<typeof PendingRecord>;

export const Decision = z.object({
  id: z.uuid(),
  decision: z.enum(['approve', 'reject']),
  decided_at: z.string(),
});
export type Decision = z.infer<typeof Decision>;

export interface PendingTask {
  id: string;
  type: TaskType;
  created_at: string;
  received_at: string;
  summary: Record<string, unknown>;
  /** Set when the owner decided and the daemon has not picked the decision up yet. */
  decision: Decision['decision'] | null;
}

export type ApprovalErrorCode = 'NOT_PENDING' | 'AMBIGUOUS_ID' | 'ALREADY_DECIDED';

export class ApprovalError extends Error {
  constructor(
    readonly code: ApprovalErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApprovalError';
  }
}

const PREVIEW_CHARS = 200;

export function summarize(spec: TaskSpec): Record<string, unknown> {
  switch (spec.type) {
    case 'shell':
      return { ...spec.payload };
    case 'file_read':
      return { path: spec.payload.path };
    case 'file_write': {
      const { path: target, content, encoding } = spec.payload;
      const bytes = Buffer.byteLength(content, encoding === 'base64' ? 'base64' : 'utf8');
      const preview = encoding === 'utf8' ? content.slice(0, PREVIEW_CHARS) : undefined;
      return { path: target, encoding, bytes, ...(preview !== undefined && { preview }) };
    }
    case 'system_info':
    case 'status_ping':
      return {};
  }
}

/** Tasks waiting for the owner, oldest first. */
export async function listPending(home: string): Promise<PendingTask[]> {
  const paths = taskPaths(home);
  const tasks: PendingTask[] = [];
  for (const id of await listRecordIds(paths.pending)) {
    const record = await readPending(paths, id);
    if (!record) continue;
    const decision = await readDecision(paths, id).catch(() => null);
    const { payload: _payload, ...shown } = record;
    tasks.push({ ...shown, decision: decision?.decision ?? null });
  }
  return tasks.sort((a, b) => a.received_at.localeCompare(b.received_at));
}

/**
 * Approves a pending task; the daemon runs it within about a second. `id` may be a unique prefix of at
 * least 4 characters. Throws ApprovalError NOT_PENDING, AMBIGUOUS_ID or ALREADY_DECIDED.
 */
export function approve(home: string, id: string, now = new Date()): Promise<PendingTask> {
  return recordDecision(home, id, 'approve', now);
}

/** Rejects a pending task: it is reported to the cloud as `rejected` and never runs. */
export function reject(home: string, id: string, now = new Date()): Promise<PendingTask> {
  return recordDecision(home, id, 'reject', now);
}

async function recordDecision(
  home: string,
  idOrPrefix: string,
  decision: Decision['decision'],
  now: Date,
): Promise<PendingTask> {
  const pending = await listPending(home);
  const wanted = idOrPrefix.trim().toLowerCase();
  const matches = wanted.length >= 4 ? pending.filter((t) => t.id === wanted || t.id.startsWith(wanted)) : [];
  const task = matches.find((t) => t.id === wanted) ?? (matches.length === 1 ? matches[0] : undefined);
  if (!task) {
    if (matches.length > 1) {
      throw new ApprovalError('AMBIGUOUS_ID', `${idOrPrefix} matches ${matches.length} pending tasks`);
    }
    throw new ApprovalError('NOT_PENDING', `no pending task ${idOrPrefix}`);
  }
  if (task.decision) {
    throw new ApprovalError('ALREADY_DECIDED', `task ${task.id} was already decided (${task.decision})`);
  }
  const paths = taskPaths(home);
  await ensurePrivateFolder(paths.decisions);
  const record: Decision = { id: task.id, decision, decided_at: now.toISOString() };
  await writeExclusive(recordFile(paths.decisions, task.id), JSON.stringify(record));
  return { ...task, decision };
}

/** Writes a whole file that must not exist yet: temp file, then a hard link (fails if the name is taken). */
async function writeExclusive(file: string, text: string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ApprovalError('ALREADY_DECIDED', 'this task was already decided');
    }
    throw err;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

// ---- for the runner ----

export async function readPending(paths: TaskPaths, id: string): Promise<PendingRecord | null> {
  const raw = await readJson(recordFile(paths.pending, id)).catch(() => null);
  const parsed = PendingRecord.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export async function readDecision(paths: TaskPaths, id: string): Promise<Decision | null> {
  const parsed = Decision.safeParse(await readJson(recordFile(paths.decisions, id)));
  return parsed.success && parsed.data.id.toLowerCase() === id.toLowerCase() ? parsed.data : null;
}

export async function forgetPending(paths: TaskPaths, id: string): Promise<void> {
  await removeFile(recordFile(paths.pending, id));
  await removeFile(recordFile(paths.decisions, id));
}
