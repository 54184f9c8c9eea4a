import type { LinkMachine } from './state-machine';

/*
 * Reconnect pacing (spec 000 §1, §9): exponential backoff with jitter, and a cap on attempts per minute so
 * that no failure mode makes the node hammer the cloud.
 */

export const BACKOFF_CAP_MS = 60_000;
const JITTER_MS = 500;
/** An attempt number at which the delay is the cap. */
export const CAP_ATTEMPT = 7;

/** Attempt n (1-based) → 1, 2, 4, 8, 16, 32, then 60 s, each ± 500 ms of uniform jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempt));
  const base = n >= CAP_ATTEMPT ? BACKOFF_CAP_MS : 1000 * 2 ** (n - 1);
  return Math.max(0, Math.round(base + (random() * 2 - 1) * JITTER_MS));
}

/** The delay before the next WebSocket attempt; it starts again at 1 s after a welcome. */
export function reconnectDelay(machine: LinkMachine, random: () => number = Math.random): number {
  const attempt = machine.replaced ? CAP_ATTEMPT : machine.consecutiveFailures + 1;
  return backoffDelay(attempt, random);
}

/** At most `max` attempts in any rolling window of `windowMs`. Time is passed in. */
export class AttemptLimiter {
  private readonly times: number[] = [];

  constructor(
    private readonly max = 10,
    private readonly windowMs = 60_000,
  ) {}

  /** How long to wait before an attempt may start at `now` (0: go). */
  waitMs(now: number): number {
    this.forget(now);
    if (this.times.length < this.max) return 0;
    const oldest = this.times[0] ?? now;
    // Clamped: a wall clock set backwards must not stall the link for longer than one window.
    return Math.min(this.windowMs, Math.max(0, oldest + this.windowMs - now));
  }

  record(now: number): void {
    this.forget(now);
    this.times.push(now);
  }

  private forget(now: number): void {
    while (this.times.length > 0 && (this.times[0] ?? 0) <= now - this.windowMs) this.times.shift();
  }
}
