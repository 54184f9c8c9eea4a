import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * The task folders under the node's home. Everything is private to the node's user: folders 0700, files
 * 0600, every file written whole (temporary file + rename).
 *
 *   tasks/state.json          ids of tasks already handled (dedupe across restarts)
 *   tasks/pending/<id>.json   tasks waiting for the owner's approval
 *   tasks/decisions/<id>.json the owner's answer, written by `canopy-node approve|reject`
 *   tasks/running/<id>.json   a task that started; left behind only if the node died while it ran
 *   tasks/outbox/<id>.json    a final update the cloud has not acknowledged yet
 */
export interface TaskPaths {
  root: string;
  state: string;
  pending: string;
  decisions: string;
  running: string;
  outbox: string;
}

export function taskPaths(home: string): TaskPaths {
  const root = path.join(home, 'tasks');
  return {
    root,
    state: path.join(root, 'state.json'),
    pending: path.join(root, 'pending'),
    decisions: path.join(root, 'decisions'),
    running: path.join(root, 'running'),
    outbox: path.join(root, 'outbox'),
  };
}

const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Task ids become file names, so only a UUID is ever accepted as one. */
export function isTaskId(value: unknown): value is string {
  return typeof value === 'string' && TASK_ID.test(value);
}

export function recordFile(folder: string, id: string): string {
  if (!isTaskId(id)) throw new Error(`not a task id: ${id}`);
  return path.join(folder, `${id.toLowerCase()}.json`);
}

export async function ensurePrivateFolder(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32') await chmod(folder, 0o700);
}

export async function ensureTaskFolders(paths: TaskPaths): Promise<void> {
  for (const folder of [paths.root, paths.pending, paths.decisions, paths.running, paths.outbox]) {
    await ensurePrivateFolder(folder);
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(JSON.stringify(value));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
}

/** The parsed file, or null when it does not exist. Broken JSON throws. */
export async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function removeFile(file: string): Promise<void> {
  await unlink(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Ids of the `<id>.json` records in a folder (temporary files and strangers are skipped). */
export async function listRecordIds(folder: string): Promise<string[]> {
  const names = await readdir(folder).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  return names
    .filter((n) => n.endsWith('.json') && isTaskId(n.slice(0, -5)))
    .map((n) => n.slice(0, -5).toLowerCase());
}

/** The last `max` task ids seen, oldest first: the runner's memory of what it already handled. */
export class HandledIds {
  private readonly ids = new Set<string>();

  constructor(
    private readonly max: number,
    initial: Iterable<string> = [],
  ) {
    for (const id of initial) this.add(id);
  }

  has(id: string): boolean {
    return this.ids.has(id.toLowerCase());
  }

  /** False when the id was already there. */
  add(id: string): boolean {
    const key = id.toLowerCase();
    if (this.ids.has(key)) return false;
    this.ids.add(key);
    if (this.ids.size > this.max) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
    return true;
  }

  delete(id: string): void {
    this.ids.delete(id.toLowerCase());
  }

  toArray(): string[] {
    return [...this.ids];
  }
}
