import type { Clock } from '../clock';

/**
 * A real clock running `factor` times faster, whose wall time can also jump (as after a sleep). Sockets and
 * HTTP stay real; only the link's waits shrink, so a test covers minutes of backoff in a second.
 */
export class TestClock implements Clock {
  private readonly realStart = Date.now();
  private offsetMs = 0;

  constructor(readonly factor: number) {}

  now(): number {
    return this.realStart + (Date.now() - this.realStart) * this.factor + this.offsetMs;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    return setTimeout(fn, Math.max(0, ms) / this.factor);
  }

  clearTimeout(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  }

  /** The wall clock leaps forward; timers already scheduled will fire "late". */
  jump(ms: number): void {
    this.offsetMs += ms;
  }

  /** Waits `ms` of this clock's time. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }
}
