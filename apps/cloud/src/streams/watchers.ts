import type { StreamEngine } from '../engine';
import type { Logger } from '../log';
import { consoleWatchKey } from './keys';

/** How long a console counts as watched after a subscriber was last seen on any instance. */
export const WATCH_LINGER_MS = 90_000;
/** How often an instance with subscribers says so again (well inside the linger). */
const REMARK_MS = 20_000;
/** How old what this instance knows of another instance's subscribers may get before it asks again. */
const RECHECK_MS = 1000;

type Known = { until: number; checkedAt: number; checking: boolean };

/**
 * Which consoles somebody watches, on any instance. CAN frames are by far the most console events (hundreds a
 * second per bus after sampling); writing them for consoles nobody has open costs the relay a large share of
 * its CPU for nothing. A console counts as watched while it has a subscriber and for WATCH_LINGER_MS after
 * (longer than the ring buffer's 60 s, so a client that drops and resumes still finds every event it missed).
 * The answer is synchronous from what this instance knows, refreshed from the engine at most once a second
 * per console — so frames reach a console opened on another instance within about a second.
 */
export class ConsoleWatchers {
  private readonly known = new Map<string, Known>();
  private readonly marked = new Map<string, number>();

  constructor(
    private readonly engine: StreamEngine,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** A subscriber is on `stream` here: frames for it are written from now on, by every instance. */
  mark(stream: string): void {
    const now = this.now();
    this.marked.set(stream, now);
    this.known.set(stream, { until: now + WATCH_LINGER_MS, checkedAt: now, checking: false });
    this.engine
      .setValue(consoleWatchKey(stream), String(now), WATCH_LINGER_MS)
      .catch((err) => this.log.warn({ err: String(err), stream }, 'could not mark a console as watched'));
  }

  /** Says again, now and then, that the consoles with subscribers here are watched. */
  keepMarked(streams: Iterable<string>): void {
    const now = this.now();
    for (const stream of streams) {
      if (now - (this.marked.get(stream) ?? 0) >= REMARK_MS) this.mark(stream);
    }
    for (const [stream, at] of this.marked) if (now - at > WATCH_LINGER_MS) this.marked.delete(stream);
    for (const [stream, k] of this.known)
      if (!k.checking && now - k.checkedAt > WATCH_LINGER_MS) this.known.delete(stream);
  }

  /** Whether anyone watches `stream` (or did within the linger), as far as this instance knows now. */
  watched(stream: string): boolean {
    const now = this.now();
    let k = this.known.get(stream);
    if (!k) {
      k = { until: 0, checkedAt: 0, checking: false };
      this.known.set(stream, k);
    }
    if (!k.checking && now - k.checkedAt >= RECHECK_MS) this.check(stream, k);
    return k.until > now;
  }

  private check(stream: string, k: Known): void {
    k.checking = true;
    this.engine
      .getValue(consoleWatchKey(stream))
      .then((raw) => {
        const at = Number(raw);
        if (raw !== null && Number.isFinite(at)) k.until = Math.max(k.until, at + WATCH_LINGER_MS);
      })
      .catch(() => {}) // an outage: keep what was known; the next check asks again
      .finally(() => {
        k.checking = false;
        k.checkedAt = this.now();
      });
  }
}
