import type { StreamEngine, WindowCount } from './engine';

type Counter = { count: number; expiresAt: number };

/** The embedded engine: one process, nothing shared, nothing persisted. */
export class MemoryEngine implements StreamEngine {
  readonly kind = 'memory' as const;
  private readonly counters = new Map<string, Counter>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('the in-process stream engine is closed');
  }

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    const now = this.now();
    let counter = this.counters.get(key);
    if (!counter || counter.expiresAt <= now) {
      counter = { count: 0, expiresAt: now + windowMs };
      this.counters.set(key, counter);
    }
    counter.count += 1;
    return { count: counter.count, resetInMs: counter.expiresAt - now };
  }

  async peek(key: string): Promise<WindowCount> {
    const now = this.now();
    const counter = this.counters.get(key);
    if (!counter || counter.expiresAt <= now) return { count: 0, resetInMs: 0 };
    return { count: counter.count, resetInMs: counter.expiresAt - now };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.counters.clear();
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, counter] of this.counters) if (counter.expiresAt <= now) this.counters.delete(key);
  }
}
