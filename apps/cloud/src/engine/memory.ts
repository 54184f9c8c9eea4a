import {
  type NumberedAppend,
  type NumberedEntry,
  numberedData,
  type StreamEngine,
  type StreamEntry,
  type StreamReader,
  type Unsubscribe,
  type WindowCount,
} from './engine';
import { MemoryStreams } from './memory-streams';

type Counter = { count: number; expiresAt: number };

/** The embedded engine: one process, nothing shared, nothing persisted. */
export class MemoryEngine implements StreamEngine {
  readonly kind = 'memory' as const;
  private readonly counters = new Map<string, Counter>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  private readonly channels = new Map<string, Set<(message: string) => void>>();
  private readonly streams: MemoryStreams;
  private readonly values = new Map<string, string>();
  /** When values set with a time to live go (absent: they stay). */
  private readonly expiries = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
    this.streams = new MemoryStreams(now);
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

  async append(stream: string, entries: Buffer[]): Promise<string[]> {
    this.assertOpen();
    return this.streams.append(stream, entries);
  }

  async range(stream: string, afterId: string, count: number): Promise<StreamEntry[]> {
    this.assertOpen();
    return this.streams.range(stream, afterId, count);
  }

  openReader(): StreamReader {
    return this.streams.openReader();
  }

  async trimBefore(stream: string, minId: string): Promise<number> {
    this.assertOpen();
    return this.streams.trimBefore(stream, minId);
  }

  async trimToLength(stream: string, maxLen: number): Promise<number> {
    this.assertOpen();
    return this.streams.trimToLength(stream, maxLen);
  }

  async streamInfo(stream: string) {
    this.assertOpen();
    return this.streams.info(stream);
  }

  async deleteStream(stream: string): Promise<void> {
    this.streams.delete(stream);
  }

  async incrBy(key: string, n: number): Promise<number> {
    this.assertOpen();
    this.expire(key);
    const current = this.values.get(key) ?? '0';
    if (!/^-?\d+$/.test(current) || !Number.isSafeInteger(n)) {
      throw new Error('ERR value is not an integer or out of range');
    }
    const next = Number(current) + n;
    this.values.set(key, String(next));
    return next;
  }

  async appendNumbered(stream: string, a: NumberedAppend): Promise<NumberedEntry> {
    // No await between the steps: nothing else runs in between, as in the Redis script.
    this.assertOpen();
    this.expire(a.counterKey);
    const last = Number(this.values.get(a.counterKey) ?? '0') + a.count;
    this.values.set(a.counterKey, String(last));
    const stored = this.values.get(a.epochKey);
    const epochStarted = last === a.count || stored === undefined;
    const epoch = epochStarted ? a.epochIfNew : Number(stored);
    if (epochStarted) this.values.set(a.epochKey, String(epoch));
    const [id] = this.streams.append(stream, [numberedData(a, epoch, last - a.count + 1)]);
    return { id: id as string, last, epoch, epochStarted };
  }

  async getValue(key: string): Promise<string | null> {
    this.assertOpen();
    this.expire(key);
    return this.values.get(key) ?? null;
  }

  async setValue(key: string, value: string, ttlMs?: number): Promise<void> {
    this.assertOpen();
    this.values.set(key, value);
    if (ttlMs !== undefined) this.expiries.set(key, this.now() + Math.max(1, ttlMs));
    else this.expiries.delete(key);
  }

  async deleteValues(...keys: string[]): Promise<void> {
    for (const key of keys) {
      this.values.delete(key);
      this.expiries.delete(key);
    }
  }

  /** Drops the value when its time to live is over (as Redis does on access). */
  private expire(key: string): void {
    const at = this.expiries.get(key);
    if (at !== undefined && at <= this.now()) {
      this.values.delete(key);
      this.expiries.delete(key);
    }
  }

  async close(): Promise<void> {
    this.streams.close();
    this.values.clear();
    this.expiries.clear();
    this.channels.clear();
    this.closed = true;
    clearInterval(this.sweeper);
    this.counters.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the in-process stream engine is closed');
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, counter] of this.counters) if (counter.expiresAt <= now) this.counters.delete(key);
    for (const key of [...this.expiries.keys()]) this.expire(key);
  }
}
