import type { Clock } from './clock';
import type { Fetch } from './fetch';

/** How often, and for how long after an outage starts, the link asks whether the cloud is back. */
export const PROBE_INTERVAL_MS = 1000;
export const PROBE_JITTER_MS = 250;
export const PROBE_WINDOW_MS = 30_000;
/** After the cloud answers, a node waits up to this long (at random) before its attempt. */
export const PROBE_SPREAD_MS = 500;
const PROBE_TIMEOUT_MS = 1000;

/**
 * Watches for the cloud's return early in an outage. The backoff alone would leave a node waiting up to the
 * next step (2, 4, 8 s …) after a quick cloud restart; instead, for the first 30 s of an outage in which the
 * cloud was unreachable, the link asks `GET /readyz` (no database work on the cloud) about once a second and
 * reconnects as soon as it answers. Later in a long outage only the backoff paces the attempts.
 */
export class ReturnProbe {
  private outageStartedAt: number | null = null;
  private timer: unknown = null;
  private inFlight: AbortController | null = null;

  constructor(
    private readonly options: {
      clock: Clock;
      random: () => number;
      readyUrl: string;
      fetch: Fetch;
      /** Called when the cloud answers; the link decides whether to attempt now. */
      onUp: () => void;
    },
  ) {}

  /** The cloud was unreachable: start (or keep) watching, within the outage's window. */
  watch(): void {
    const now = this.options.clock.now();
    this.outageStartedAt ??= now;
    if (this.timer !== null || this.inFlight || now - this.outageStartedAt >= PROBE_WINDOW_MS) return;
    this.schedule();
  }

  /** Stops watching until the next outage (connected, polling, stopped). */
  reset(): void {
    this.pause();
    this.outageStartedAt = null;
  }

  /** Stops watching but remembers the outage (the last failure was not about reachability). */
  pause(): void {
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.inFlight?.abort();
    this.inFlight = null;
  }

  private schedule(): void {
    const { clock, random } = this.options;
    const delay = PROBE_INTERVAL_MS + (random() * 2 - 1) * PROBE_JITTER_MS;
    this.timer = clock.setTimeout(() => {
      this.timer = null;
      void this.probe();
    }, delay);
  }

  private async probe(): Promise<void> {
    const { clock } = this.options;
    const controller = new AbortController();
    this.inFlight = controller;
    const timeout = clock.setTimeout(() => controller.abort(), PROBE_TIMEOUT_MS);
    let up = false;
    try {
      const res = await this.options.fetch(this.options.readyUrl, { signal: controller.signal });
      up = res.ok;
    } catch {
      up = false;
    } finally {
      clock.clearTimeout(timeout);
    }
    if (this.inFlight !== controller) return; // paused or reset meanwhile
    this.inFlight = null;
    if (up) {
      this.options.onUp();
      return;
    }
    if (this.outageStartedAt !== null && clock.now() - this.outageStartedAt < PROBE_WINDOW_MS)
      this.schedule();
  }
}
