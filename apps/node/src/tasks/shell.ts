import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { TaskSpec } from '@canopy/protocol';
import { TaskError } from './errors';
import type { ExecutorContext, TaskOutcome } from './executor';
import { resolveWorkspacePath } from './safety';

type ShellPayload = Extract<TaskSpec, { type: 'shell' }>['payload'];

export interface ShellResult {
  /** null when the command was ended by a signal. */
  exit_code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  duration_ms: number;
}

/** After the last kill, how long to wait for the pipes to close before giving up on them. */
const PIPE_GRACE_MS = 1_000;
/** A stopping node cannot wait long: the SIGKILL must go out before the process exits. */
const ABORT_GRACE_MS = 500;
const isWindows = process.platform === 'win32';

/**
 * Runs a command through the system shell in the workspace (or a folder inside it). On POSIX the command
 * gets its own process group, so a timeout ends everything it started (SIGTERM, then SIGKILL after a grace
 * period), not just the shell. Background jobs that keep stdout open hold the task until the timeout.
 */
export async function runShell(payload: ShellPayload, ctx: ExecutorContext): Promise<TaskOutcome> {
  const rules = { workspaceRoot: ctx.workspaceRoot, userHome: ctx.userHome, nodeHome: ctx.nodeHome };
  await mkdir(ctx.workspaceRoot, { recursive: true });
  const cwd = await resolveWorkspacePath(payload.cwd ?? '.', rules);
  const info = await stat(cwd).catch(() => null);
  if (!info?.isDirectory())
    throw new TaskError(
      'NOT_A_FOLDER',
      `the working folder does not exist: ${payload.cwd ?? ctx.workspaceRoot}`,
    );
  if (ctx.signal?.aborted) throw new TaskError('INTERRUPTED', 'the node stopped before the command started');

  const timeoutMs = Math.min(payload.timeout_ms ?? ctx.limits.defaultTimeoutMs, ctx.limits.maxTimeoutMs);
  const started = performance.now();
  const child = spawn(payload.command, {
    shell: true,
    cwd,
    detached: !isWindows,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  const output = new CappedOutput(ctx.limits.maxOutputBytes);
  child.stdout?.on('data', (chunk: Buffer) => output.add('stdout', chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.add('stderr', chunk));

  let stopReason: 'timeout' | 'aborted' | null = null;
  const ended = waitForEnd(child);
  const timers: NodeJS.Timeout[] = [];
  const stop = (reason: 'timeout' | 'aborted') => {
    if (stopReason) return;
    stopReason = reason;
    const grace =
      reason === 'aborted' ? Math.min(ABORT_GRACE_MS, ctx.limits.killGraceMs) : ctx.limits.killGraceMs;
    killTree(child, 'SIGTERM');
    timers.push(setTimeout(() => killTree(child, 'SIGKILL'), grace));
    // A process that left the group (setsid) may hold the pipes forever: stop waiting for them.
    timers.push(
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, grace + PIPE_GRACE_MS),
    );
  };
  timers.push(setTimeout(() => stop('timeout'), timeoutMs));
  const onAbort = () => stop('aborted');
  ctx.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const end = await ended;
    if ('error' in end) throw new TaskError('FAILED', `the command could not start: ${end.error.message}`);
    // Whatever of the group survived the shell (ignored SIGTERM, no pipes open) goes too.
    if (stopReason) killTree(child, 'SIGKILL');
    const result: ShellResult = {
      exit_code: end.code,
      signal: end.signal,
      ...output.text(),
      duration_ms: Math.round(performance.now() - started),
    };
    if (stopReason === 'timeout') {
      return { status: 'timeout', result, error: `the command did not finish within ${timeoutMs} ms` };
    }
    if (stopReason === 'aborted') {
      return { status: 'error', result, error: 'the node stopped while the command was running' };
    }
    return { status: 'done', result };
  } finally {
    for (const t of timers) clearTimeout(t);
    ctx.signal?.removeEventListener('abort', onAbort);
  }
}

type End = { code: number | null; signal: string | null } | { error: Error };

function waitForEnd(child: ChildProcess): Promise<End> {
  return new Promise((resolve) => {
    child.once('error', (error) => resolve({ error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    if (isWindows) {
      spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
    } else {
      process.kill(-child.pid, signal);
    }
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** stdout and stderr kept up to one shared byte budget. */
class CappedOutput {
  private readonly chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  private size = 0;
  private truncated = false;

  constructor(private readonly max: number) {}

  add(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const room = this.max - this.size;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks[stream].push(kept);
    this.size += kept.length;
  }

  text(): { stdout: string; stderr: string; truncated: boolean } {
    return {
      stdout: Buffer.concat(this.chunks.stdout).toString('utf8'),
      stderr: Buffer.concat(this.chunks.stderr).toString('utf8'),
      truncated: this.truncated,
    };
  }
}
