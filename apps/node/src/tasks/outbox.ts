import { FINAL_TASK_STATUSES, TaskUpdate } from '@canopy/protocol';
import type { Logger } from 'pino';
import { listRecordIds, readJson, recordFile, removeFile, writeJsonAtomic } from './store';

export type ReportFn = (update: TaskUpdate) => Promise<void>;

export interface OutboxOptions {
  /** Where unacknowledged final updates wait (tasks/outbox). */
  folder: string;
  report: ReportFn;
  log: Logger;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** An attempt whose promise neither resolves nor rejects counts as failed after this long. */
  attemptTimeoutMs?: number;
}

interface Slot {
  current: TaskUpdate;
  /** An update that arrived while `current` was in flight; it supersedes `current` unless that is final. */
  next: TaskUpdate | null;
  inFlight: boolean;
  failures: number;
  timer: NodeJS.Timeout | null;
}

const isFinal = (u: TaskUpdate) => (FINAL_TASK_STATUSES as readonly string[]).includes(u.status);

/**
 * Delivers task updates in order per task, retrying with backoff (1 s doubling to 30 s, with jitter) until
 * `report` resolves. A final update is written to disk before its first attempt and deleted once reported,
 * so it survives a restart and is re-sent as the very same update: the cloud may see it twice, never two
 * different results. A progress update (`running`, `pending_approval`) lives in memory and is dropped
 * once a newer update for the same task is waiting.
 */
export class Outbox {
  private readonly slots = new Map<string, Slot>();
  private closed = false;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly attemptTimeoutMs: number;

  constructor(private readonly opts: OutboxOptions) {
    this.retryBaseMs = opts.retryBaseMs ?? 1_000;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
    this.attemptTimeoutMs = opts.attemptTimeoutMs ?? 60_000;
  }

  /** Reads the final updates a previous run left unsent and sends them; returns their task ids. */
  async resume(): Promise<string[]> {
    const ids: string[] = [];
    for (const id of await listRecordIds(this.opts.folder)) {
      const parsed = TaskUpdate.safeParse(await readJson(recordFile(this.opts.folder, id)).catch(() => null));
      if (!parsed.success || !isFinal(parsed.data) || parsed.data.task_id.toLowerCase() !== id) {
        this.opts.log.warn({ task_id: id }, 'dropping an unreadable outbox record');
        await removeFile(recordFile(this.opts.folder, id));
        continue;
      }
      ids.push(id);
      this.enqueue(parsed.data);
    }
    return ids;
  }

  /** True when a final update for the task is waiting to be (or being) reported. */
  hasFinal(taskId: string): boolean {
    const slot = this.slots.get(taskId.toLowerCase());
    return !!slot && (isFinal(slot.current) || (slot.next !== null && isFinal(slot.next)));
  }

  /**
   * Queues an update. A final one is on disk when this resolves (unless the disk refused it: then it is
   * sent from memory only); `afterPersist` then runs before the first attempt, to retire whatever record
   * the final update replaces.
   */
  async send(update: TaskUpdate, afterPersist?: () => Promise<void>): Promise<void> {
    if (this.hasFinal(update.task_id)) {
      this.opts.log.warn(
        { task_id: update.task_id, status: update.status },
        'task already has a final update',
      );
      return;
    }
    if (isFinal(update)) {
      await writeJsonAtomic(recordFile(this.opts.folder, update.task_id), update).catch((err: unknown) =>
        // Still deliver it from memory: a result in hand is better than none (e.g. with a full disk).
        this.opts.log.error(
          { err, task_id: update.task_id },
          'could not save a task result; sending it anyway',
        ),
      );
    }
    if (afterPersist) await afterPersist();
    this.enqueue(update);
  }

  /** Updates not yet acknowledged (in memory; the final ones are also on disk). */
  size(): number {
    return this.slots.size;
  }

  close(): void {
    this.closed = true;
    for (const slot of this.slots.values()) if (slot.timer) clearTimeout(slot.timer);
  }

  private enqueue(update: TaskUpdate): void {
    const key = update.task_id.toLowerCase();
    const slot = this.slots.get(key);
    if (!slot) {
      this.slots.set(key, { current: update, next: null, inFlight: false, failures: 0, timer: null });
      this.attempt(key);
    } else if (slot.inFlight) {
      slot.next = update;
    } else {
      // Waiting for a retry: the newer update replaces the older progress update right away.
      if (slot.timer) clearTimeout(slot.timer);
      slot.current = update;
      slot.failures = 0;
      this.attempt(key);
    }
  }

  private attempt(key: string): void {
    const slot = this.slots.get(key);
    if (!slot || this.closed) return;
    slot.timer = null;
    slot.inFlight = true;
    const update = slot.current;
    this.deliverOnce(update)
      .then(
        () => this.onDelivered(key, slot, update),
        (err: unknown) => this.onFailed(key, slot, update, err),
      )
      .catch((err: unknown) => this.opts.log.error({ err, task_id: key }, 'task update delivery failed'));
  }

  private async deliverOnce(update: TaskUpdate): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer from the cloud')), this.attemptTimeoutMs);
    });
    try {
      const sent: unknown = this.opts.report(update);
      // A report function that returns no promise (say, no link yet) has not delivered anything.
      if (typeof (sent as PromiseLike<void> | null)?.then !== 'function')
        throw new Error('no link to the cloud');
      await Promise.race([sent, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async onDelivered(key: string, slot: Slot, update: TaskUpdate): Promise<void> {
    if (isFinal(update)) {
      await removeFile(recordFile(this.opts.folder, key)).catch((err: unknown) =>
        this.opts.log.warn({ err, task_id: key }, 'could not remove an outbox record'),
      );
    }
    slot.inFlight = false;
    slot.failures = 0;
    if (slot.next && !isFinal(update)) {
      slot.current = slot.next;
      slot.next = null;
      this.attempt(key);
    } else {
      this.slots.delete(key);
    }
  }

  private onFailed(key: string, slot: Slot, update: TaskUpdate, err: unknown): void {
    slot.inFlight = false;
    if (slot.next && !isFinal(update)) {
      slot.current = slot.next;
      slot.next = null;
      slot.failures = 0;
    }
    slot.failures += 1;
    const delay = this.backoff(slot.failures);
    this.opts.log.warn(
      { task_id: key, status: slot.current.status, err: (err as Error)?.message, retry_in_ms: delay },
      'task update not delivered; will retry',
    );
    if (!this.closed) slot.timer = setTimeout(() => this.attempt(key), delay);
  }

  private backoff(failures: number): number {
    const ceiling = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (failures - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}
