import { FINAL_TASK_STATUSES, type TaskStatus, TaskUpdate } from '@canopy/protocol';
import type { Logger } from 'pino';
import { backoffDelay } from './backoff';
import type { Clock } from './clock';
import { CloudRequestError, errorText } from './http';

export type UpdateTransport = {
  /** Whether the WebSocket is open and welcomed. */
  wsReady(): boolean;
  /** Sends a `task_update` frame; false if the socket is not open. */
  sendFrame(update: TaskUpdate): boolean;
  /** POST /agents/tasks/:task_id/update with the session token; resolves on a 2xx. */
  post(update: TaskUpdate): Promise<void>;
};

export type UpdateQueueOptions = {
  clock: Clock;
  random: () => number;
  log: Logger;
  transport: UpdateTransport;
  /** How long to wait for an `update_ack` before trying again (then over HTTP). */
  ackTimeoutMs: number;
};

type Pending = { update: TaskUpdate; resolve: () => void; reject: (err: Error) => void };

type Inflight = { update: TaskUpdate; settle: (err: Error | null) => void };

class AckTimeout extends Error {}

/**
 * Task updates on their way to the cloud, in order, one at a time: over the WebSocket when connected (done on
 * `update_ack`), else over HTTP (done on 2xx), retried across reconnects and transports until acknowledged.
 */
export class UpdateQueue {
  private readonly items: Pending[] = [];
  private inflight: Inflight | null = null;
  private running = false;
  private closedWith: Error | null = null;
  private wakeUp: (() => void) | null = null;

  constructor(private readonly options: UpdateQueueOptions) {}

  get length(): number {
    return this.items.length;
  }

  push(input: TaskUpdate): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const parsed = TaskUpdate.safeParse(input);
    if (!parsed.success) {
      return Promise.reject(
        new Error(`invalid task update: ${parsed.error.issues[0]?.message ?? 'unknown'}`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.items.push({ update: parsed.data, resolve, reject });
      void this.run();
    });
  }

  /** An `update_ack` from the cloud. */
  acknowledge(taskId: string, status: TaskStatus): void {
    const inflight = this.inflight;
    if (!inflight || inflight.update.task_id !== taskId) return;
    // The cloud answers with the task's stored status; a final one also settles a stale update of that task.
    if (status === inflight.update.status || (FINAL_TASK_STATUSES as readonly string[]).includes(status)) {
      inflight.settle(null);
    }
  }

  /** The socket closed: an update waiting for its ack will be sent again. */
  connectionLost(): void {
    this.inflight?.settle(new Error('the connection closed before the cloud acknowledged the update'));
  }

  /** A transport became available: stop waiting and try now. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Rejects everything queued; later pushes are rejected too until `reopen`. */
  close(error: Error): void {
    this.closedWith = error;
    this.connectionLost();
    for (const item of this.items.splice(0)) item.reject(error);
    this.wake();
  }

  reopen(): void {
    this.closedWith = null;
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    let failures = 0;
    let httpNext = false;
    try {
      while (!this.closedWith && this.items.length > 0) {
        const head = this.items[0] as Pending;
        try {
          if (!httpNext && this.options.transport.wsReady()) await this.viaWebSocket(head.update);
          else await this.options.transport.post(head.update);
          if (this.items[0] !== head) continue; // closed meanwhile
          this.items.shift();
          head.resolve();
          failures = 0;
          httpNext = false;
        } catch (err) {
          if (this.closedWith || this.items[0] !== head) continue;
          if (err instanceof CloudRequestError && err.permanent) {
            this.options.log.error(
              { task_id: head.update.task_id, status: err.status, code: err.code },
              'the cloud refused a task update; dropped',
            );
            this.items.shift();
            head.reject(err);
            continue;
          }
          failures += 1;
          // A socket that swallows updates without acks should not hold the queue: the next try goes by HTTP.
          httpNext = err instanceof AckTimeout;
          const delay = backoffDelay(failures, this.options.random);
          this.options.log.warn(
            { task_id: head.update.task_id, attempt: failures, delay_ms: delay, err: errorText(err) },
            'task update not delivered yet; retrying',
          );
          await this.pause(delay);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private viaWebSocket(update: TaskUpdate): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = this.options.clock.setTimeout(
        () => inflight.settle(new AckTimeout('no update_ack from the cloud in time')),
        this.options.ackTimeoutMs,
      );
      const inflight: Inflight = {
        update,
        settle: (err) => {
          if (this.inflight !== inflight) return;
          this.inflight = null;
          this.options.clock.clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        },
      };
      this.inflight = inflight;
      if (!this.options.transport.sendFrame(update)) inflight.settle(new Error('the socket is not open'));
    });
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.options.clock.clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = null;
        resolve();
      };
      const timer = this.options.clock.setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}
