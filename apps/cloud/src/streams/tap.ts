import type { StreamEngine, StreamReader } from '../engine';
import { compareStreamIds } from '../engine/stream-id';
import type { Logger } from '../log';
import { type ConsoleEntry, decodeEntry } from './entry';

/** Where a tap's events go: one SSE connection. */
export interface ConsoleSink {
  event(entry: ConsoleEntry): void;
  /** Several events in one write (what one read of the stream brought); else `event` for each. */
  events?(entries: ConsoleEntry[]): void;
  /** Resolves when the client has taken what it was sent (a catch-up waits on it between batches). */
  drained(): Promise<void>;
  /** The subscription cannot go on (the stream failed under a catch-up, or the client fell too far behind). */
  fail(reason: string): void;
}

type Subscriber = {
  sink: ConsoleSink;
  /** The newest id this subscriber got: nothing at or before it is sent again. */
  last: string;
  /** Live entries held while a catch-up reads what came before them; null once caught up. */
  pending: ConsoleEntry[] | null;
  closed: boolean;
};

const READ_COUNT = 256;
const READ_BLOCK_MS = 10_000;
const CATCH_UP_BATCH = 500;
/** Live entries held for one subscriber during its catch-up; past this it is dropped (it can resume). */
const MAX_PENDING = 20_000;
/**
 * Live fan-out is paced by the number of subscribers: after a round, the next read waits this long per
 * subscriber (at most MAX_FANOUT_SPACING_MS), so what arrived meanwhile goes out in one write each. A round
 * costs a socket write per subscriber; unpaced, 200 subscribers of a busy group cost the cloud most of a core
 * and delayed the relay sharing its event loop by hundreds of milliseconds. One subscriber waits 0.25 ms.
 */
const FANOUT_SPACING_PER_SUBSCRIBER_MS = 0.25;
const MAX_FANOUT_SPACING_MS = 50;
/**
 * Events written (to all subscribers together) between two turns of the event loop, so that the relay's
 * sockets, sharing the loop, are read in between: a round is at most a few milliseconds at a time.
 */
const FANOUT_SLICE_EVENTS = 2000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/**
 * One blocking reader loop on one console stream, for every subscriber of this instance. A subscriber joins
 * at an id: if the tap has already gone past it, the subscriber first reads the gap with range reads while
 * the tap's live entries wait for it, so it gets every entry after its id, once, in order.
 */
export class StreamTap {
  private readonly subs = new Set<Subscriber>();
  private readonly reader: StreamReader;
  private stopped = false;

  constructor(
    private readonly engine: StreamEngine,
    readonly stream: string,
    /** The id the tap starts reading after: the stream's end when its first subscriber connected. */
    private cursor: string,
    private readonly log: Logger,
    private readonly onStop: () => void,
  ) {
    this.reader = engine.openReader();
    void this.run();
  }

  get size(): number {
    return this.subs.size;
  }

  /** Sends `sink` every entry after `from`; returns the way to leave. */
  join(sink: ConsoleSink, from: string): () => void {
    const sub: Subscriber = { sink, last: from, pending: null, closed: false };
    const target = this.cursor;
    this.subs.add(sub);
    if (compareStreamIds(from, target) < 0) {
      sub.pending = [];
      void this.catchUp(sub, target);
    }
    return () => this.leave(sub);
  }

  /** Ends every subscription (their connections end; clients reconnect elsewhere) and the reader loop. */
  close(): void {
    for (const sub of [...this.subs]) this.drop(sub, 'the console is shutting down');
  }

  private leave(sub: Subscriber): void {
    sub.closed = true;
    this.subs.delete(sub);
    if (this.subs.size === 0 && !this.stopped) {
      this.stopped = true;
      this.onStop();
      void this.reader.close().catch(() => {});
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    let lastRound = Number.NEGATIVE_INFINITY;
    while (!this.stopped) {
      const spacing = Math.min(MAX_FANOUT_SPACING_MS, this.subs.size * FANOUT_SPACING_PER_SUBSCRIBER_MS);
      const wait = lastRound + spacing - performance.now();
      if (wait >= 1) await sleep(wait);
      if (this.stopped) return;
      let raws: Awaited<ReturnType<StreamReader['read']>>;
      try {
        raws = await this.reader.read(this.stream, this.cursor, READ_COUNT, READ_BLOCK_MS);
        failures = 0;
      } catch (err) {
        if (this.stopped) return;
        if (failures++ % 20 === 0) {
          this.log.warn({ err: String(err), stream: this.stream }, 'console stream read failed; retrying');
        }
        await sleep(Math.min(2000, 100 * 2 ** Math.min(failures, 5)));
        continue;
      }
      if (this.stopped) return;
      const entries: ConsoleEntry[] = [];
      for (const raw of raws) {
        this.cursor = raw.id;
        const entry = decodeEntry(raw);
        if (entry) entries.push(entry);
      }
      if (entries.length === 0) continue;
      lastRound = performance.now();
      const subs = [...this.subs];
      const slice = Math.max(1, Math.floor(FANOUT_SLICE_EVENTS / entries.length));
      for (let i = 0; i < subs.length; i++) {
        if (i > 0 && i % slice === 0) await nextTurn();
        const sub = subs[i] as Subscriber;
        if (sub.closed) continue;
        if (sub.pending) {
          sub.pending.push(...entries);
          if (sub.pending.length > MAX_PENDING) this.drop(sub, 'too many events while catching up');
        } else {
          deliverAll(sub, entries);
        }
      }
    }
  }

  /** Reads (from, target] for a late subscriber, then hands it what the tap held meanwhile. */
  private async catchUp(sub: Subscriber, target: string): Promise<void> {
    try {
      let after = sub.last;
      while (!sub.closed) {
        const batch = await this.engine.range(this.stream, after, CATCH_UP_BATCH);
        for (const raw of batch) {
          const entry = decodeEntry(raw);
          if (entry && !sub.closed) deliver(sub, entry);
          // At the client's pace: a catch-up must not fill the connection's queue and get it dropped.
          await sub.sink.drained();
        }
        const last = batch.at(-1)?.id;
        if (!last || batch.length < CATCH_UP_BATCH || compareStreamIds(last, target) >= 0) break;
        after = last;
      }
      const held = sub.pending ?? [];
      sub.pending = null;
      for (const entry of held) if (!sub.closed) deliver(sub, entry);
    } catch (err) {
      this.drop(sub, `could not read the console stream: ${String(err)}`);
    }
  }

  private drop(sub: Subscriber, reason: string): void {
    if (sub.closed) return;
    sub.pending = null;
    sub.sink.fail(reason);
    this.leave(sub);
  }
}

/** Entries after the subscriber's last, in one write when the sink can. */
function deliverAll(sub: Subscriber, entries: ConsoleEntry[]): void {
  const fresh = entries.filter((e) => compareStreamIds(e.id, sub.last) > 0);
  const last = fresh.at(-1);
  if (!last) return;
  sub.last = last.id;
  if (sub.sink.events) sub.sink.events(fresh);
  else for (const e of fresh) sub.sink.event(e);
}

function deliver(sub: Subscriber, entry: ConsoleEntry): void {
  if (compareStreamIds(entry.id, sub.last) <= 0) return;
  sub.last = entry.id;
  sub.sink.event(entry);
}
