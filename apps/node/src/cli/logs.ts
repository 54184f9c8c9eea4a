import fs from 'node:fs';
import path from 'node:path';
import { homePaths } from '../config';
import { formatLine, listLogFiles } from '../log';
import type { CliContext } from './context';

export interface LogsRequest {
  lines: number;
  follow: boolean;
  /** Print the JSON lines as stored instead of readable ones. */
  json: boolean;
  /** Stops following (tests); default: SIGINT/SIGTERM. */
  signal?: AbortSignal;
  pollMs?: number;
}

/** `canopy-node logs`: the last lines of the newest log files, then (with -f) new lines across rotation. */
export async function logs(ctx: CliContext, request: LogsRequest): Promise<number> {
  const dir = homePaths(ctx.env.home).logs;
  const print = (line: string) =>
    ctx.stdout.write(request.json ? `${line}\n` : formatLine(line, { withDate: true, color: ctx.env.color }));
  const files = listLogFiles(dir);
  if (files.length === 0 && !request.follow) {
    ctx.stdout.write(`No logs yet in ${dir}.\n`);
    return 0;
  }
  const tail: string[] = [];
  for (let i = files.length - 1; i >= 0 && tail.length < request.lines; i--) {
    const name = files[i]?.name as string;
    const lines = readLines(path.join(dir, name));
    tail.unshift(...lines.slice(Math.max(0, lines.length - (request.lines - tail.length))));
  }
  for (const line of tail) print(line);
  if (!request.follow) return 0;

  const stop = request.signal ?? signalOnInterrupt();
  await follow(dir, files.at(-1)?.name ?? null, print, stop, request.pollMs ?? 500);
  return 0;
}

function readLines(file: string): string[] {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  } catch {
    return [];
  }
}

/**
 * Polls the newest file for growth; when a newer file appears (rotation), reads what is left of the old
 * one and moves on. Polling, not fs.watch: it behaves the same on every platform and file system.
 */
async function follow(
  dir: string,
  start: string | null,
  print: (line: string) => void,
  signal: AbortSignal,
  pollMs: number,
): Promise<void> {
  let current = start;
  let offset = current ? safeSize(path.join(dir, current)) : 0;
  let partial = '';
  const drain = () => {
    if (!current) return;
    const file = path.join(dir, current);
    const size = safeSize(file);
    if (size < offset) offset = 0; // truncated or replaced
    if (size === offset) return;
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      const read = fs.readSync(fd, buf, 0, buf.length, offset);
      offset += read;
      const text = partial + buf.subarray(0, read).toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line !== '') print(line);
    } finally {
      fs.closeSync(fd);
    }
  };
  while (!signal.aborted) {
    try {
      drain();
      const newest = listLogFiles(dir).at(-1)?.name ?? null;
      if (newest && newest !== current) {
        drain();
        if (partial) print(partial);
        partial = '';
        current = newest;
        offset = 0;
        drain();
      }
    } catch {
      // The file went away between listing and reading (pruned): the next round picks the newest.
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}

function safeSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function signalOnInterrupt(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
}
