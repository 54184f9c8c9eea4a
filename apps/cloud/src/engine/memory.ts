import type { StreamEngine, Unsubscribe, WindowCount } from './engine';

type Counter = { count: number; expiresAt: number };

/** The embedded engine: one process, nothing shared, nothing persisted. */
export class MemoryEngine implements StreamEngine {
  readonly kind = 'memory' as const;
  private readonly counters = new Map<string, Counter>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  private readonly channels = new Map<string, Set<(message: string) => void>>();

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

  async forget(...keys: string[]): Promise<void> {
    for (const key of keys) this.counters.delete(key);
  }

  async publish(channel: string, message: string): Promise<void> {
    for (const handler of [...(this.channels.get(channel) ?? [])]) queueMicrotask(() => handler(message));
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    let set = this.channels.get(channel);
    if (!set) {
      set = new Set();
      this.channels.set(channel, set);
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (set.size === 0 && this.channels.get(channel) === set) this.channels.delete(channel);
    };
  }

  async close(): Promise<void> {
    this.channels.clear();
    this.closed = true;
    clearInterval(this.sweeper);
    this.counters.clear();
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, counter] of this.counters) if (counter.expiresAt <= now) this.counters.delete(key);
  }
}
