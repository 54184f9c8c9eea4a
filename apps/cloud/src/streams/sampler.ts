/**
 * Console sampling (spec 002 §18.3): above `thresholdPerS` frames a second, one frame in N goes to the console.
 * N is a power of two chosen from the measured rate, so it moves only when the rate doubles or halves; it goes
 * down only with a 25 % margin, so a rate hovering at a boundary does not flap. Only the console is sampled:
 * the data plane never goes through this. Pure: the caller passes the time.
 */
export type SamplingChange = { oneIn: number; previous: number; ratePerS: number };

/** How long a window runs before its rate is read from the time elapsed rather than the whole window. */
const EARLY_MS = 100;

export class ConsoleSampler {
  private windowStart = Number.NEGATIVE_INFINITY;
  private count = 0;
  /** N from the last whole window; within a window N can only grow. */
  private base = 1;
  private current = 1;
  private seen = 0;
  private lastFrameAt = Number.NEGATIVE_INFINITY;
  /** Frames a second in the last whole window. */
  private lastRate = 0;

  private pick = 0;

  constructor(
    private readonly thresholdPerS: number,
    private readonly windowMs = 1000,
    private readonly random: () => number = Math.random,
  ) {}

  /** 1 when every frame is shown. */
  get oneIn(): number {
    return this.current;
  }

  /** One frame at `now`: whether the console shows it, and a change of N to announce (before this frame). */
  offer(now: number): { keep: boolean; change: SamplingChange | null } {
    this.lastFrameAt = now;
    if (now - this.windowStart >= this.windowMs) this.roll(now);
    this.count += 1;
    const partialRate = this.partialRate(now);
    const change = this.set(Math.max(this.base, this.oneInFor(partialRate)), partialRate);
    // One frame of each block of N, at a random place in the block: exactly 1 in N, and frames that come in
    // a fixed rotation (CAN ids sent round-robin) all get shown, not always the same one.
    const slot = this.seen % this.current;
    if (slot === 0) this.pick = Math.floor(this.random() * this.current);
    const keep = slot === this.pick;
    this.seen += 1;
    return { keep, change };
  }

  /** Called now and then when frames may have stopped: ends sampling once a whole window passed without any. */
  idle(now: number): SamplingChange | null {
    if (this.current === 1 || now - this.lastFrameAt < this.windowMs) return null;
    this.roll(now);
    return this.set(this.base, 0);
  }

  /** True when the sampler holds nothing worth keeping (no sampling, no frame for a while). */
  isIdle(now: number): boolean {
    return this.current === 1 && now - this.lastFrameAt >= 10 * this.windowMs;
  }

  private roll(now: number): void {
    const elapsed = now - this.windowStart;
    // A window followed by a gap says nothing of the rate now: count it as no frames.
    const rate = elapsed < 2 * this.windowMs ? (this.count * 1000) / this.windowMs : 0;
    const up = this.oneInFor(rate);
    this.base = up > this.current ? up : Math.min(this.current, this.oneInFor(rate * 1.25));
    this.lastRate = rate;
    this.windowStart = elapsed < 2 * this.windowMs ? this.windowStart + this.windowMs : now;
    this.count = 0;
  }

  /**
   * The rate so far in this window. Frames over the whole window (a lower bound) at first; once the window is
   * EARLY_MS old and holds a quarter of the threshold's frames, frames over the time elapsed — so a busy bus is
   * sampled within EARLY_MS instead of showing every frame until the count passes the threshold, doubling
   * after doubling, and a short burst on a quiet bus is not mistaken for a high rate.
   */
  private partialRate(now: number): number {
    const elapsed = now - this.windowStart;
    const early = elapsed >= EARLY_MS && this.count >= this.thresholdPerS / 4;
    // Over the elapsed time, the frames after the window's first (which came at its start): n − 1 gaps.
    return early ? ((this.count - 1) * 1000) / elapsed : (this.count * 1000) / this.windowMs;
  }

  private set(next: number, partialRate: number): SamplingChange | null {
    if (next === this.current) return null;
    const change = {
      oneIn: next,
      previous: this.current,
      ratePerS: Math.round(Math.max(this.lastRate, partialRate)),
    };
    this.current = next;
    this.seen = 0;
    return change;
  }

  private oneInFor(ratePerS: number): number {
    if (ratePerS <= this.thresholdPerS) return 1;
    return 2 ** Math.ceil(Math.log2(ratePerS / this.thresholdPerS));
  }
}
