/**
 * A token bucket for replay (spec 002 §13.3.5): `rate` frames a second with a burst of a tenth of a second.
 * `take(n)` spends n frames and says how long to wait before sending them (0 = now); a debt is carried into
 * the next call, so the average holds whatever the batch sizes.
 */
export class Pacer {
  private tokens: number;
  private last: number;
  private readonly burst: number;

  constructor(
    private readonly rate: number,
    private readonly now: () => number,
  ) {
    this.burst = Math.max(1, Math.floor(rate / 10));
    this.tokens = this.burst;
    this.last = now();
  }

  take(n: number): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.rate) / 1000);
    this.last = t;
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.rate);
  }
}
