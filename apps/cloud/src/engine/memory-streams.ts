import type { StreamEntry, StreamReader } from './engine';
import { parseStreamId } from './stream-id';

type Entry = { ms: number; seq: number; id: string; data: Buffer };
/** The entries held, and the last id made (kept when entries are trimmed, as Redis keeps it). */
type Stream = { entries: Entry[]; lastMs: number; lastSeq: number };
type Waiter = { stream: string; wake: () => void; fail: (err: Error) => void };

const closedError = () => new Error('the stream reader is closed');

/** Redis-Streams-shaped streams in one process: what MemoryEngine offers for append, range and blocking reads. */
export class MemoryStreams {
  private readonly streams = new Map<string, Stream>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly readers = new Set<MemoryReader>();

  constructor(private readonly now: () => number) {}

  append(name: string, data: Buffer[]): string[] {
    let stream = this.streams.get(name);
    if (!stream) {
      stream = { entries: [], lastMs: 0, lastSeq: -1 };
      this.streams.set(name, stream);
    }
    const ids: string[] = [];
    for (const d of data) {
      // The Redis rule: the clock's ms, a sequence within the same ms, never going backwards.
      const t = Math.floor(this.now());
      if (t > stream.lastMs) {
        stream.lastMs = t;
        stream.lastSeq = 0;
      } else {
        stream.lastSeq += 1;
      }
      const id = `${stream.lastMs}-${stream.lastSeq}`;
      stream.entries.push({ ms: stream.lastMs, seq: stream.lastSeq, id, data: Buffer.from(d) });
      ids.push(id);
    }
    if (data.length > 0) this.wake(name);
    return ids;
  }

  range(name: string, afterId: string, count: number): StreamEntry[] {
    const stream = this.streams.get(name);
    if (!stream || count <= 0) return [];
    const [ms, seq] = parseStreamId(afterId);
    const from = firstAfter(stream.entries, ms, seq, true);
    return stream.entries.slice(from, from + count).map((e) => ({ id: e.id, data: e.data }));
  }

  trimBefore(name: string, minId: string): number {
    const stream = this.streams.get(name);
    if (!stream) return 0;
    const [ms, seq] = parseStreamId(minId);
    const cut = firstAfter(stream.entries, ms, seq, false);
    stream.entries.splice(0, cut);
    return cut;
  }

  trimToLength(name: string, maxLen: number): number {
    const stream = this.streams.get(name);
    if (!stream) return 0;
    const cut = Math.max(0, stream.entries.length - Math.max(0, maxLen));
    stream.entries.splice(0, cut);
    return cut;
  }

  info(name: string): { length: number; firstId: string | null; lastId: string | null } {
    const entries = this.streams.get(name)?.entries ?? [];
    return {
      length: entries.length,
      firstId: entries[0]?.id ?? null,
      lastId: entries.at(-1)?.id ?? null,
    };
  }

  delete(name: string): void {
    this.streams.delete(name);
  }

  openReader(): StreamReader {
    const reader = new MemoryReader(this);
    this.readers.add(reader);
    return reader;
  }

  /** Waits until `name` gets an entry, `ms` pass, or the reader closes (rejects then). */
  waitForAppend(name: string, ms: number, reader: MemoryReader): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let set = this.waiters.get(name);
      if (!set) {
        set = new Set();
        this.waiters.set(name, set);
      }
      const waiters = set;
      const done = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
        reader.pending.delete(waiter);
        if (waiters.size === 0 && this.waiters.get(name) === waiters) this.waiters.delete(name);
      };
      const waiter: Waiter = {
        stream: name,
        wake: () => {
          done();
          resolve();
        },
        fail: (err) => {
          done();
          reject(err);
        },
      };
      const timer = setTimeout(waiter.wake, ms);
      waiters.add(waiter);
      reader.pending.add(waiter);
    });
  }

  forgetReader(reader: MemoryReader): void {
    this.readers.delete(reader);
  }

  close(): void {
    for (const reader of [...this.readers]) void reader.close();
    this.streams.clear();
  }

  private wake(name: string): void {
    for (const waiter of [...(this.waiters.get(name) ?? [])]) waiter.wake();
  }
}

class MemoryReader implements StreamReader {
  readonly pending = new Set<Waiter>();
  private closed = false;

  constructor(private readonly streams: MemoryStreams) {}

  async read(stream: string, afterId: string, count: number, blockMs: number): Promise<StreamEntry[]> {
    if (this.closed) throw closedError();
    const deadline = Date.now() + Math.max(0, blockMs);
    while (true) {
      const found = this.streams.range(stream, afterId, count);
      const left = deadline - Date.now();
      if (found.length > 0 || left <= 0) return found;
      await this.streams.waitForAppend(stream, left, this);
      if (this.closed) throw closedError();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of [...this.pending]) waiter.fail(closedError());
    this.streams.forgetReader(this);
  }
}

/**
 * Index of the first entry after (ms, seq) — or, with `strict` false, at or after it. Entries are sorted by
 * id, so a binary search.
 */
function firstAfter(entries: Entry[], ms: number, seq: number, strict: boolean): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = entries[mid] as Entry;
    const cmp = e.ms !== ms ? e.ms - ms : e.seq - seq;
    if (strict ? cmp <= 0 : cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
