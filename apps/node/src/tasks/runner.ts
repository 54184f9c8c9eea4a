import { type FSWatcher, watch } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { TaskMessage, TaskSpec, type TaskType, type TaskUpdate } from '@canopy/protocol';
import type { Logger } from 'pino';
import { z } from 'zod';
import { forgetPending, type PendingRecord, readDecision, readPending, summarize } from './approvals';
import { toTaskError } from './errors';
import {
  DEFAULT_LIMITS,
  type ExecutorContext,
  type ExecutorLimits,
  executeTask,
  type TaskOutcome,
} from './executor';
import { Outbox, type ReportFn } from './outbox';
import { decide, type TaskPolicy } from './policy';
import {
  ensureTaskFolders,
  HandledIds,
  isTaskId,
  listRecordIds,
  readJson,
  recordFile,
  removeFile,
  type TaskPaths,
  taskPaths,
  writeJsonAtomic,
} from './store';

export { ApprovalError, approve, listPending, type PendingTask, reject } from './approvals';

export interface TaskRunnerOptions {
  /** canopy-node's home; task state lives in `<home>/tasks`. */
  home: string;
  /** Where file tasks and shell commands work (default: `<userHome>/canopy-workspace`). */
  workspaceRoot?: string | null;
  policy: TaskPolicy;
  log: Logger;
  /** Sends an update to the cloud; resolves once the cloud acknowledged it, rejects to be retried. */
  report: ReportFn;
  now?: () => Date;
  /** The user's home, for `~` and the protected folders (default: os.homedir()). */
  userHome?: string;
  limits?: Partial<ExecutorLimits>;
  /** Tasks executing at once; more wait their turn (default 4). */
  maxConcurrent?: number;
  /** The decisions folder is watched, and also scanned this often in case watching fails (default 1 s). */
  pollIntervalMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export const MAX_HANDLED_IDS = 10_000;
const MAX_ERROR_CHARS = 10_000;

const StateFile = z.object({ version: z.literal(1), handled: z.array(z.string()) });

interface RunnableTask {
  id: string;
  type: TaskType;
  payload: Record<string, unknown>;
}

type FinalUpdate = Omit<TaskUpdate, 'task_id'> & { status: 'done' | 'error' | 'rejected' | 'timeout' };

/**
 * Receives tasks from the link and sees each one through exactly once: dedupe by task id (persisted), the
 * approval policy, execution, and a final update that is kept on disk until the cloud has it.
 *
 * A task that started is never started again, even after a crash: if the node dies while a task runs, the
 * next start reports it as `error` (INTERRUPTED) rather than running it a second time.
 */
export class TaskRunner {
  private readonly paths: TaskPaths;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly outbox: Outbox;
  private readonly abort = new AbortController();
  private readonly execution: ExecutorContext;
  private readonly gate: Gate;
  private started: Promise<void> | null = null;
  private handled = new HandledIds(MAX_HANDLED_IDS);
  private stateWrite: Promise<void> = Promise.resolve();
  private readonly runs = new Set<Promise<void>>();
  private watcher: FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private scan: Promise<void> | null = null;
  private rescan = false;
  private closed = false;
  private last: Date | null = null;

  constructor(private readonly opts: TaskRunnerOptions) {
    this.paths = taskPaths(opts.home);
    const userHome = opts.userHome ?? os.homedir();
    this.log = opts.log;
    this.now = opts.now ?? (() => new Date());
    this.gate = new Gate(opts.maxConcurrent ?? 4);
    this.outbox = new Outbox({
      folder: this.paths.outbox,
      report: opts.report,
      log: opts.log,
      retryBaseMs: opts.retryBaseMs,
      retryMaxMs: opts.retryMaxMs,
    });
    this.execution = {
      workspaceRoot: opts.workspaceRoot ?? defaultWorkspaceRoot(userHome),
      userHome,
      nodeHome: opts.home,
      limits: { ...DEFAULT_LIMITS, ...opts.limits },
      now: this.now,
      signal: this.abort.signal,
    };
  }

  /**
   * Loads the state, re-sends what a previous run left unsent, reports tasks a crash interrupted, and starts
   * watching for approvals. Idempotent once it succeeded; `handle` calls it too, but call it at start-up so that results from
   * before a restart go out without waiting for a new task.
   */
  start(): Promise<void> {
    if (!this.started) {
      const starting = this.init();
      this.started = starting;
      // A failed start (say, the home is not writable yet) is tried again by the next call.
      starting.catch((err: unknown) => {
        this.log.error({ err }, 'the task runner could not start');
        if (this.started === starting) this.started = null;
      });
    }
    return this.started;
  }

  /**
   * Takes a task from the cloud. Resolves once the task is recorded (so its cursor can be acknowledged);
   * the task itself runs in the background. A task id seen before is ignored.
   */
  async handle(msg: TaskMessage): Promise<void> {
    await this.start();
    if (this.closed) throw new Error('the task runner is closed');
    const parsed = TaskMessage.safeParse(msg);
    const id: unknown = parsed.success ? parsed.data.task.id : (msg as { task?: { id?: unknown } })?.task?.id;
    if (!isTaskId(id)) {
      this.log.warn('ignoring a task message without a valid task id');
      return;
    }
    if (this.handled.has(id)) {
      this.log.info({ task_id: id }, 'task already handled; ignoring the repeat');
      return;
    }
    this.last = this.now();
    if (!parsed.success) {
      await this.accept(id, () => this.finish(id, failure(toTaskError(parsed.error))));
      return;
    }
    const { task } = parsed.data;
    const spec = TaskSpec.safeParse({ type: task.type, payload: task.payload });
    if (!spec.success) {
      this.log.warn({ task_id: id, type: task.type }, 'task payload is not valid');
      await this.accept(id, () => this.finish(id, failure(toTaskError(spec.error))));
      return;
    }
    const verdict = decide(this.opts.policy, spec.data);
    this.log.info({ task_id: id, type: task.type, verdict, ...logDetail(spec.data) }, 'task received');
    if (verdict === 'ask') {
      await this.accept(id, () => this.park(task, spec.data));
    } else if (await this.accept(id, () => this.markRunning(id, task.type))) {
      this.launch(task);
    }
  }

  /** When the last task arrived (for health), or null. */
  lastTaskAt(): Date | null {
    return this.last;
  }

  /**
   * Stops watching and retrying. Running commands are killed and reported as `error` (their final update
   * stays in the outbox if the cloud cannot be told now, and goes out at the next start).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.poll) clearInterval(this.poll);
    this.watcher?.close();
    await this.started?.catch(() => {});
    await this.scan;
    this.abort.abort();
    await Promise.allSettled([...this.runs]);
    await this.stateWrite;
    this.outbox.close();
  }

  // ---- start-up ----

  private async init(): Promise<void> {
    await ensureTaskFolders(this.paths);
    this.handled = new HandledIds(MAX_HANDLED_IDS, await this.loadState());
    let changed = false;
    const remember = (id: string) => {
      if (this.handled.add(id)) changed = true;
    };
    const unsent = new Set(await this.outbox.resume());
    for (const id of unsent) remember(id);
    if (unsent.size > 0)
      this.log.info({ count: unsent.size }, 're-sending task results from before the restart');
    for (const id of await listRecordIds(this.paths.running)) {
      remember(id);
      const marker = recordFile(this.paths.running, id);
      await forgetPending(this.paths, id);
      if (unsent.has(id)) {
        await removeFile(marker);
        continue;
      }
      this.log.warn({ task_id: id }, 'a task was interrupted by the node stopping');
      const interrupted = 'the node stopped while the task was running; it may have partly run';
      await this.finish(id, { status: 'error', error: interrupted, result: { code: 'INTERRUPTED' } }, () =>
        removeFile(marker),
      );
    }
    for (const id of await listRecordIds(this.paths.pending)) {
      remember(id);
      if (unsent.has(id)) await forgetPending(this.paths, id);
      else await this.outbox.send({ task_id: id, status: 'pending_approval' });
    }
    if (changed) await this.persistState();
    if (this.closed) return;
    this.watchDecisions();
    this.scanDecisions();
  }

  private async loadState(): Promise<string[]> {
    const raw = await readJson(this.paths.state).catch((err: unknown) => {
      this.log.warn({ err }, 'task state is unreadable; starting with an empty one');
      return null;
    });
    if (raw === null) return [];
    const parsed = StateFile.safeParse(raw);
    if (!parsed.success) this.log.warn('task state has an unknown shape; starting with an empty one');
    return parsed.success ? parsed.data.handled.filter(isTaskId) : [];
  }

  // ---- accepting a task ----

  /**
   * Marks the id handled and runs `record`, which leaves the task's trace on disk (pending file, running
   * marker or final update) before state.json is written: after a crash in between, start-up finds the
   * trace. False when the id was already handled.
   */
  private async accept(id: string, record: () => Promise<void>): Promise<boolean> {
    if (!this.handled.add(id)) return false;
    try {
      await record();
    } catch (err) {
      this.handled.delete(id);
      throw err;
    }
    await this.persistState().catch((err: unknown) =>
      this.log.error({ err }, 'could not save the task state; dedupe relies on the task records'),
    );
    return true;
  }

  private persistState(): Promise<void> {
    const write = this.stateWrite.then(() =>
      writeJsonAtomic(this.paths.state, { version: 1, handled: this.handled.toArray() }),
    );
    this.stateWrite = write.catch(() => {});
    return write;
  }

  private async park(task: TaskMessage['task'], spec: TaskSpec): Promise<void> {
    const record: PendingRecord = {
      id: task.id,
      type: task.type,
      created_at: task.created_at,
      received_at: this.now().toISOString(),
      summary: summarize(spec),
      payload: task.payload,
    };
    await writeJsonAtomic(recordFile(this.paths.pending, task.id), record);
    await this.outbox.send({ task_id: task.id, status: 'pending_approval' });
    this.log.info({ task_id: task.id }, 'task waits for approval (canopy-node pending)');
  }

  private markRunning(id: string, type: TaskType): Promise<void> {
    return writeJsonAtomic(recordFile(this.paths.running, id), {
      id,
      type,
      started_at: this.now().toISOString(),
    });
  }

  // ---- running ----

  private launch(task: RunnableTask): void {
    const run = this.run(task).catch((err: unknown) =>
      this.log.error({ err, task_id: task.id }, 'could not record the task result'),
    );
    this.runs.add(run);
    void run.finally(() => this.runs.delete(run));
  }

  private async run(task: RunnableTask): Promise<void> {
    let outcome: TaskOutcome;
    await this.gate.enter();
    try {
      if (this.abort.signal.aborted) {
        outcome = {
          status: 'error',
          error: 'the node stopped before the task started',
          result: { code: 'INTERRUPTED' },
        };
      } else {
        await this.outbox.send({ task_id: task.id, status: 'running' });
        const started = performance.now();
        outcome = await executeTask(task, this.execution);
        const duration_ms = Math.round(performance.now() - started);
        this.log.info(
          { task_id: task.id, type: task.type, status: outcome.status, duration_ms },
          'task finished',
        );
      }
    } finally {
      this.gate.leave();
    }
    await this.finish(task.id, outcome, () => removeFile(recordFile(this.paths.running, task.id)));
  }

  private async finish(id: string, final: FinalUpdate, afterPersist?: () => Promise<void>): Promise<void> {
    const update: TaskUpdate = {
      task_id: id,
      status: final.status,
      ...(final.result !== undefined && { result: final.result }),
      ...(final.error !== undefined && { error: final.error.slice(0, MAX_ERROR_CHARS) }),
    };
    await this.outbox.send(update, afterPersist);
  }

  // ---- approvals ----

  private watchDecisions(): void {
    try {
      this.watcher = watch(this.paths.decisions, () => this.scanDecisions());
      this.watcher.on('error', (err) => {
        this.log.warn({ err }, 'watching the decisions folder failed; polling it');
        this.watcher?.close();
        this.watcher = null;
      });
      this.watcher.unref();
    } catch (err) {
      this.log.warn({ err }, 'cannot watch the decisions folder; polling it');
    }
    this.poll = setInterval(() => this.scanDecisions(), this.opts.pollIntervalMs ?? 1_000);
    this.poll.unref();
  }

  /** One scan at a time; a request during a scan makes it go round once more. */
  private scanDecisions(): void {
    if (this.closed) return;
    if (this.scan) {
      this.rescan = true;
      return;
    }
    this.scan = (async () => {
      do {
        this.rescan = false;
        for (const id of await listRecordIds(this.paths.decisions)) {
          if (this.closed) return;
          await this.applyDecision(id);
        }
      } while (this.rescan && !this.closed);
    })()
      .catch((err: unknown) => this.log.warn({ err }, 'could not process approval decisions'))
      .finally(() => {
        this.scan = null;
      });
  }

  private async applyDecision(id: string): Promise<void> {
    const decisionFile = recordFile(this.paths.decisions, id);
    const decision = await readDecision(this.paths, id).catch((err: unknown) => {
      this.log.warn({ err, task_id: id }, 'cannot read a decision file');
      return null;
    });
    const pending = decision ? await readPending(this.paths, id) : null;
    if (!decision || !pending) {
      this.log.warn({ task_id: id }, 'dropping a decision that is unreadable or has no pending task');
      await removeFile(decisionFile);
      return;
    }
    this.log.info({ task_id: id, decision: decision.decision }, 'the owner decided on a task');
    if (decision.decision === 'reject') {
      await this.finish(id, { status: 'rejected', error: 'rejected by the owner of this node' }, () =>
        forgetPending(this.paths, id),
      );
      return;
    }
    await this.markRunning(id, pending.type);
    await forgetPending(this.paths, id);
    this.launch({ id, type: pending.type, payload: pending.payload });
  }
}

export function defaultWorkspaceRoot(userHome: string): string {
  return path.join(userHome, 'canopy-workspace');
}

function failure(err: { code: string; message: string }): FinalUpdate {
  return { status: 'error', error: err.message, result: { code: err.code } };
}

function logDetail(spec: TaskSpec): Record<string, unknown> {
  if (spec.type === 'shell') return { command: spec.payload.command.slice(0, 500) };
  if (spec.type === 'file_read' || spec.type === 'file_write') return { path: spec.payload.path };
  return {};
}

/** At most `max` holders at once; the others wait in order. */
class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number) {}

  async enter(): Promise<void> {
    if (this.active < this.max) {
      this.active += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }
}
