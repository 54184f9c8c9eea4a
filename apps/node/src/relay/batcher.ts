import type { Clock } from '../link/clock';

/** A batch leaves at most this long after its first frame (spec 002 §13.3: latency over message count). */
export const BATCH_DELAY_MS = 2;

/**
 * Collects items into batches: a batch is flushed when `maxBatch` items wait, or `delayMs` after its first
 * item, whichever comes first. The clock is passed in.
 */
export class Batcher<T> {
  #items: T[] = [];
  #timer: unknown = null;
  #maxBatch: number;

  constructor(
    private readonly options: {
      clock: Clock;
      maxBatch: number;
      delayMs?: number;
      flush: (items: T[]) => void;
    },
  ) {
    this.#maxBatch = Math.max(1, options.maxBatch);
  }

  get pending(): number {
    return this.#items.length;
  }

  /** The far end's limit (data_welcome max_batch), never above the one the batcher was made with. */
  limit(maxBatch: number): void {
    this.#maxBatch = Math.max(1, Math.min(this.options.maxBatch, maxBatch));
    if (this.#items.length >= this.#maxBatch) this.flush();
  }

  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length >= this.#maxBatch) {
      this.flush();
      return;
    }
    if (this.#timer === null) {
      this.#timer = this.options.clock.setTimeout(() => {
        this.#timer = null;
        this.flush();
      }, this.options.delayMs ?? BATCH_DELAY_MS);
    }
  }

  /** Sends what waits now (in batches of at most maxBatch). */
  flush(): void {
    if (this.#timer !== null) {
      this.options.clock.clearTimeout(this.#timer);
      this.#timer = null;
    }
    while (this.#items.length > 0) {
      const batch = this.#items.length <= this.#maxBatch ? this.#items : this.#items.slice(0, this.#maxBatch);
      this.#items = batch === this.#items ? [] : this.#items.slice(this.#maxBatch);
      this.options.flush(batch);
    }
  }

  /** Forgets what waits and the timer. */
  clear(): void {
    if (this.#timer !== null) this.options.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#items = [];
  }
}
