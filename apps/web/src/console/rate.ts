/**
 * Frames a second over the last minute, from when events arrive (not from the frames' own times, which come
 * from each dongle's clock). One counter per second in a circular array: adding is O(1) at any rate.
 */
export class RateMeter {
  private readonly counts: number[];
  private readonly seconds: number[];

  constructor(readonly window = 60) {
    // One slot more than the window: the second in progress.
    this.counts = new Array(window + 1).fill(0);
    this.seconds = new Array(window + 1).fill(-1);
  }

  add(atMs: number, n = 1): void {
    const second = Math.floor(atMs / 1000);
    const slot = second % this.counts.length;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot] = (this.counts[slot] ?? 0) + n;
  }

  /** Frames in each of the last `window` whole seconds before `nowMs`, oldest first. */
  series(nowMs: number): number[] {
    const current = Math.floor(nowMs / 1000);
    const out = new Array<number>(this.window);
    for (let i = 0; i < this.window; i++) {
      const second = current - this.window + i;
      const slot = ((second % this.counts.length) + this.counts.length) % this.counts.length;
      out[i] = this.seconds[slot] === second ? (this.counts[slot] ?? 0) : 0;
    }
    return out;
  }

  /** Frames in the last whole second. */
  perSecond(nowMs: number): number {
    const second = Math.floor(nowMs / 1000) - 1;
    const slot = second % this.counts.length;
    return this.seconds[slot] === second ? (this.counts[slot] ?? 0) : 0;
  }
}

export type Sparkline = { line: string; area: string; max: number };

/**
 * An SVG polyline (and the area under it) for `series` in a `width` × `height` box: oldest on the left, y
 * scaled to the largest value (at least 1, so that a quiet minute is a flat line at the bottom).
 */
export function sparkline(series: readonly number[], width: number, height: number): Sparkline {
  const max = Math.max(1, ...series);
  if (series.length === 0) return { line: '', area: '', max };
  const step = series.length > 1 ? width / (series.length - 1) : 0;
  const round = (n: number) => Math.round(n * 10) / 10;
  const points = series.map(
    (v, i) => `${round(i * step)},${round(height - (Math.max(0, v) / max) * height)}`,
  );
  const line = points.join(' ');
  const area = `0,${height} ${line} ${round((series.length - 1) * step)},${height}`;
  return { line, area, max };
}
