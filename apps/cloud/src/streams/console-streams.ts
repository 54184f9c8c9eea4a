import type {
  CanFrameEvent,
  ConsoleEventData,
  ConsoleEventType,
  LogEvent,
  StreamResetEvent,
} from '@canopy/protocol';
import { ConsoleEventSchemas } from '@canopy/protocol';
import type { StreamEngine } from '../engine';
import { compareStreamIds } from '../engine/stream-id';
import type { Logger } from '../log';
import { encodeEvent } from './entry';
import { resumeProblem } from './resume';
import { ConsoleSampler, type SamplingChange } from './sampler';
import { type ConsoleSink, StreamTap } from './tap';
import { ConsoleWatchers } from './watchers';

export type ConsoleStreamsOptions = {
  engine: StreamEngine;
  log: Logger;
  now?: () => number;
  /** The ring buffer (spec 002 §18.3): at most this many events… */
  maxEntries?: number;
  /** …and none older than this (the newest is always kept, so a client that saw it can resume). */
  maxAgeMs?: number;
  /** CAN frames a second per stream above which the console shows 1 in N. */
  sampleThreshold?: number;
  /** Trim a stream after this many appends (or a second) rather than on every one. */
  trimEvery?: number;
};

/** Anything that tells the live console: the domains take this, not the whole service. */
export interface ConsoleEmitter {
  emit<T extends ConsoleEventType>(stream: string, type: T, data: ConsoleEventData<T>): Promise<string>;
  notify<T extends ConsoleEventType>(stream: string, type: T, data: ConsoleEventData<T>): void;
}

/**
 * Where a connection starts: after `from` (the client's Last-Event-ID, or the stream's end), with `live` the
 * stream's end when it connected; and the stream_reset to send first when a resume was asked for and failed.
 */
export type StartingPoint = {
  from: string;
  live: string;
  reset: Omit<StreamResetEvent, 'request_id'> | null;
};

type TrimState = { appends: number; lastTrim: number; lastAppend: number; lastId: string; busy: boolean };

const SWEEP_MS = 1000;
/**
 * CAN frames for one console go in at most once every FRAME_FLUSH_MS: the first at once, what follows within
 * the window together. A relayed bus sends a message every few ms; an append for each (a Redis round trip and
 * a socket write) cost the cloud about 2 % of a core per watched group on a full bus (profiled), for nothing a
 * person can see.
 */
export const FRAME_FLUSH_MS = 20;

/** CAN frames (and sampling notices) waiting for their console's next append. */
type FrameBatch = {
  entries: Buffer[];
  timer: NodeJS.Timeout;
  done: Promise<void>;
  settle: (err?: unknown) => void;
};

/**
 * The live console's streams (spec 002 §15, §18): events go into one engine stream per console
 * (`console:dongle:<id>`, `console:group:<id>`), which is the ring buffer every cloud instance shares; each
 * instance runs one reader loop per stream that has local subscribers and fans it out to them.
 */
export class ConsoleStreams implements ConsoleEmitter {
  private readonly engine: StreamEngine;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly sampleThreshold: number;
  private readonly trimEvery: number;
  private readonly taps = new Map<string, StreamTap>();
  private readonly samplers = new Map<string, ConsoleSampler>();
  private readonly trims = new Map<string, TrimState>();
  private readonly frameBatches = new Map<string, FrameBatch>();
  /** When each console's CAN frames last went in (see FRAME_FLUSH_MS). */
  private readonly frameFlushes = new Map<string, number>();
  private readonly watchers: ConsoleWatchers;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: ConsoleStreamsOptions) {
    this.engine = options.engine;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
    this.sampleThreshold = options.sampleThreshold ?? 500;
    this.trimEvery = options.trimEvery ?? 64;
    this.watchers = new ConsoleWatchers(this.engine, this.log, this.now);
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Adds one event (its data checked against the protocol schema); returns its id, the SSE event id. */
  async emit<T extends ConsoleEventType>(
    stream: string,
    type: T,
    data: ConsoleEventData<T>,
  ): Promise<string> {
    const checked = ConsoleEventSchemas[type].parse(data) as ConsoleEventData<T>;
    // Frames waiting for their append go in first, with it: the stream keeps the order things happened in.
    const [id] = await this.flushFrames(stream, [encodeEvent(type, checked)]);
    return id as string;
  }

  /** emit, for hooks in other domains: never throws, a failure is logged. */
  notify<T extends ConsoleEventType>(stream: string, type: T, data: ConsoleEventData<T>): void {
    this.emit(stream, type, data).catch((err) =>
      this.log.warn({ err, stream, type }, 'could not add a live console event'),
    );
  }

  /**
   * CAN frames for the consoles of `streams` (a dongle's, its group's), sampled per stream: above the threshold
   * only 1 in N goes in, and a `log` event says when sampling starts, changes or stops. Only consoles somebody
   * watches (or did within a minute and a half, see ConsoleWatchers) get them. Console only: the relay never
   * calls this on its data path.
   */
  async emitFrames(streams: string[], frames: CanFrameEvent[]): Promise<void> {
    await this.emitFrameBatch(streams, frames.length, (i) => frames[i] as CanFrameEvent);
  }

  /**
   * emitFrames for `count` frames made on demand: `make(i)` is called only for the frames the sampling keeps
   * (in at least one of the streams), so a busy bus costs the console little.
   */
  async emitFrameBatch(streams: string[], count: number, make: (i: number) => CanFrameEvent): Promise<void> {
    if (count === 0) return;
    const watched = streams.filter((stream) => this.watchers.watched(stream));
    if (watched.length === 0) return;
    const now = this.now();
    const encoded: Array<Buffer | undefined> = [];
    const frameAt = (i: number) => {
      encoded[i] ??= encodeEvent('can_frame', make(i));
      return encoded[i];
    };
    await Promise.all(
      watched.map((stream) => {
        let sampler = this.samplers.get(stream);
        if (!sampler) {
          sampler = new ConsoleSampler(this.sampleThreshold);
          this.samplers.set(stream, sampler);
        }
        const out: Buffer[] = [];
        for (let i = 0; i < count; i++) {
          const { keep, change } = sampler.offer(now);
          if (change) out.push(encodeEvent('log', this.samplingNotice(change, now)));
          if (keep) out.push(frameAt(i));
        }
        return this.appendFrames(stream, out);
      }),
    );
  }

  /**
   * Where a new connection starts: after `lastEventId` when that is still in the stream, else after the
   * newest entry (live) — with the stream_reset to send first when a resume was asked for and is not possible.
   */
  async startingPoint(stream: string, lastEventId: string | undefined): Promise<StartingPoint> {
    const info = await this.engine.streamInfo(stream);
    const live = info.lastId ?? '0';
    if (lastEventId === undefined) return { from: live, live, reset: null };
    const reset = resumeProblem(lastEventId, info);
    return reset ? { from: live, live, reset } : { from: lastEventId, live, reset: null };
  }

  /**
   * Sends `sink` every event of `stream` after `start.from` (see startingPoint), then live; returns the way to
   * stop. What came before `start.live` is read at the client's pace, what follows at the stream's.
   */
  subscribe(stream: string, start: Pick<StartingPoint, 'from' | 'live'>, sink: ConsoleSink): () => void {
    this.watchers.mark(stream);
    let tap = this.taps.get(stream);
    if (!tap) {
      const made: StreamTap = new StreamTap(this.engine, stream, start.live, this.log, () => {
        if (this.taps.get(stream) === made) this.taps.delete(stream);
      });
      tap = made;
      this.taps.set(stream, tap);
    }
    return tap.join(sink, start.from);
  }

  /** Reader loops running on this instance, and their subscribers (for tests and health). */
  stats(): { streams: number; subscribers: number } {
    let subscribers = 0;
    for (const tap of this.taps.values()) subscribers += tap.size;
    return { streams: this.taps.size, subscribers };
  }

  /** Stops the timers and every reader loop of this instance (their connections end). */
  close(): void {
    clearInterval(this.sweeper);
    for (const stream of [...this.frameBatches.keys()]) void this.flushFrames(stream).catch(() => {});
    for (const tap of [...this.taps.values()]) tap.close();
  }

  /**
   * Appends CAN frames to `stream` at once if its last frames went in FRAME_FLUSH_MS ago or more, else with
   * whatever else comes for it before then. Resolves once they are in.
   */
  private appendFrames(stream: string, entries: Buffer[]): Promise<unknown> {
    if (entries.length === 0) return Promise.resolve();
    const now = this.now();
    const batch = this.frameBatches.get(stream);
    if (batch) {
      batch.entries.push(...entries);
      return batch.done;
    }
    const last = this.frameFlushes.get(stream) ?? Number.NEGATIVE_INFINITY;
    if (now - last >= FRAME_FLUSH_MS) {
      this.frameFlushes.set(stream, now);
      return this.append(stream, entries);
    }
    let settle: FrameBatch['settle'] = () => {};
    const done = new Promise<void>((resolve, reject) => {
      settle = (err) => (err === undefined ? resolve() : reject(err));
    });
    done.catch(() => {}); // its callers handle a failure; this only keeps it from counting as unhandled
    const timer = setTimeout(
      () => void this.flushFrames(stream).catch(() => {}), // the waiting callers hear of a failure
      last + FRAME_FLUSH_MS - now,
    );
    this.frameBatches.set(stream, { entries: [...entries], timer, done, settle });
    return done;
  }

  /** Appends the frames waiting for `stream`, then `also`, in one go; returns the ids of `also`. */
  private async flushFrames(stream: string, also: Buffer[] = []): Promise<string[]> {
    const batch = this.frameBatches.get(stream);
    if (!batch) return this.append(stream, also);
    this.frameBatches.delete(stream);
    clearTimeout(batch.timer);
    this.frameFlushes.set(stream, this.now());
    try {
      const ids = await this.append(stream, [...batch.entries, ...also]);
      batch.settle();
      return ids.slice(batch.entries.length);
    } catch (err) {
      batch.settle(err);
      throw err;
    }
  }

  private async append(stream: string, entries: Buffer[]): Promise<string[]> {
    if (entries.length === 0) return [];
    const ids = await this.engine.append(stream, entries);
    this.afterAppend(stream, ids.at(-1) as string, ids.length);
    return ids;
  }

  /** Trims now and then, not on every append: every `trimEvery` appends or every second, one trim at a time. */
  private afterAppend(stream: string, lastId: string, count: number): void {
    const now = this.now();
    let state = this.trims.get(stream);
    if (!state) {
      state = { appends: 0, lastTrim: now, lastAppend: now, lastId, busy: false };
      this.trims.set(stream, state);
    }
    state.appends += count;
    state.lastAppend = now;
    if (compareStreamIds(lastId, state.lastId) > 0) state.lastId = lastId;
    if (!state.busy && (state.appends >= this.trimEvery || now - state.lastTrim >= 1000))
      this.trim(stream, state);
  }

  private trim(stream: string, state: TrimState): void {
    const now = this.now();
    state.busy = true;
    state.appends = 0;
    state.lastTrim = now;
    // Never the newest entry (this instance's newest is at most the stream's): a client that saw it can resume.
    const byAge = `${Math.max(0, now - this.maxAgeMs)}-0`;
    const minId = compareStreamIds(byAge, state.lastId) < 0 ? byAge : state.lastId;
    Promise.all([this.engine.trimToLength(stream, this.maxEntries), this.engine.trimBefore(stream, minId)])
      .catch((err) => this.log.warn({ err: String(err), stream }, 'could not trim a console stream'))
      .finally(() => {
        state.busy = false;
      });
  }

  /** Ends sampling on streams whose frames stopped; gives streams that went quiet their last age trim. */
  private sweep(): void {
    const now = this.now();
    this.watchers.keepMarked([...this.taps].filter(([, tap]) => tap.size > 0).map(([stream]) => stream));
    for (const [stream, sampler] of this.samplers) {
      const change = sampler.idle(now);
      if (change)
        void this.flushFrames(stream, [encodeEvent('log', this.samplingNotice(change, now))]).catch(() => {});
      else if (sampler.isIdle(now)) this.samplers.delete(stream);
    }
    for (const [stream, at] of this.frameFlushes)
      if (now - at >= FRAME_FLUSH_MS && !this.frameBatches.has(stream)) this.frameFlushes.delete(stream);
    for (const [stream, state] of this.trims) {
      if (state.busy || now - state.lastAppend < this.maxAgeMs) continue;
      this.trims.delete(stream);
      this.trim(stream, state);
    }
  }

  private samplingNotice(change: SamplingChange, now: number): LogEvent {
    const rate = change.ratePerS.toLocaleString('en-US');
    const message =
      change.oneIn === 1
        ? `Console sampling off: every CAN frame is shown again (under ${this.sampleThreshold} frames/s)`
        : change.previous === 1
          ? `Console sampling on: about ${rate} frames/s is over ${this.sampleThreshold}/s, so the console shows 1 in ${change.oneIn} CAN frames (the bridge itself relays every frame)`
          : `Console sampling now shows 1 in ${change.oneIn} CAN frames (about ${rate} frames/s)`;
    return {
      ts: new Date(now).toISOString(),
      level: change.oneIn === 1 ? 'info' : 'warn',
      code: change.oneIn === 1 ? 'console_sampling_stopped' : 'console_sampling',
      message,
      details: {
        one_in: change.oneIn,
        previous_one_in: change.previous,
        rate_per_s: change.ratePerS,
        threshold_per_s: this.sampleThreshold,
      },
    };
  }
}
