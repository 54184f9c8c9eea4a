/**
 * A token bucket: `rate` per second, up to `burst` at once. A dongle's UDP socket and CAN bus take frames at a
 * bounded pace (a 1 Mbit/s bus carries ~9,000 a second), so a backlog is written out at this pace rather than
 * in one burst that would overflow the dongle's receive buffer. Time is passed in.
 */
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes up to `wanted` tokens; returns how many it took. */
  take(wanted: number, now: number): number {
    this.refill(now);
    const n = Math.max(0, Math.min(wanted, Math.floor(this.#tokens)));
    this.#tokens -= n;
    return n;
  }

  /** How long until one token is there (0: now). */
  waitMs(now: number): number {
    this.refill(now);
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) * 1000) / this.rate);
  }

  private refill(now: number): void {
    // A clock set backwards gives nothing and takes nothing.
    const elapsed = Math.max(0, now - this.#at);
    this.#at = Math.max(this.#at, now);
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.rate) / 1000);
  }
}
