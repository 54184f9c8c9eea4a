import os from 'node:os';
import { TaskSpec, type TaskType } from '@canopy/protocol';
import { toTaskError } from './errors';
import { readTaskFile, writeTaskFile } from './files';
import { runShell } from './shell';

const MiB = 1024 * 1024;

export interface ExecutorLimits {
  /** A shell task without `timeout_ms`. */
  defaultTimeoutMs: number;
  /** The cap on a shell task's `timeout_ms`. */
  maxTimeoutMs: number;
  /** stdout and stderr together; the rest is dropped and the result says `truncated: true`. */
  maxOutputBytes: number;
  maxReadBytes: number;
  maxWriteBytes: number;
  /** After SIGTERM to a timed-out command's process group, how long before SIGKILL. */
  killGraceMs: number;
}

export const DEFAULT_LIMITS: ExecutorLimits = {
  defaultTimeoutMs: 30_000,
  maxTimeoutMs: 10 * 60_000,
  maxOutputBytes: MiB,
  maxReadBytes: MiB,
  maxWriteBytes: 10 * MiB,
  killGraceMs: 2_000,
};

export interface ExecutorContext {
  workspaceRoot: string;
  userHome: string;
  nodeHome: string;
  limits: ExecutorLimits;
  now: () => Date;
  /** Aborting stops a running command (its process group is killed) and the task ends as `error`. */
  signal?: AbortSignal;
}

/** The final state of a task, as it goes into a TaskUpdate. */
export interface TaskOutcome {
  status: 'done' | 'error' | 'timeout';
  result?: unknown;
  error?: string;
}

/**
 * Runs one task and never throws: a failure is an `error` outcome with a plain message and `result.code`.
 * A shell command that exits with a non-zero code is `done` — it ran, and the code is in the result.
 */
export async function executeTask(
  task: { type: TaskType; payload: unknown },
  ctx: ExecutorContext,
): Promise<TaskOutcome> {
  try {
    const spec = TaskSpec.parse({ type: task.type, payload: task.payload });
    switch (spec.type) {
      case 'shell':
        return await runShell(spec.payload, ctx);
      case 'file_read':
        return { status: 'done', result: await readTaskFile(spec.payload, ctx) };
      case 'file_write':
        return { status: 'done', result: await writeTaskFile(spec.payload, ctx) };
      case 'system_info':
        return { status: 'done', result: systemInfo() };
      case 'status_ping':
        return { status: 'done', result: { pong: true, at: ctx.now().toISOString() } };
    }
  } catch (err) {
    const e = toTaskError(err);
    return { status: 'error', error: e.message, result: { code: e.code } };
  }
}

/** What the machine is, without anything personal: no user names, no environment, no addresses. */
export function systemInfo() {
  return {
    hostname: os.hostname(),
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    cpus: os.cpus().length,
    memory_total: os.totalmem(),
    memory_free: os.freemem(),
    uptime_s: Math.round(os.uptime()),
    node_version: process.version,
    load_avg: os.loadavg(),
  };
}
