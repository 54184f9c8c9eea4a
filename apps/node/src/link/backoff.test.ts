import { describe, expect, it } from 'vitest';
import { AttemptLimiter, BACKOFF_CAP_MS, backoffDelay, reconnectDelay } from './backoff';
import { initialMachine, transition } from './state-machine';
import { seeded } from './testing/seeded';

const BASES = [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000];

describe('backoffDelay', () => {
  it('follows 1, 2, 4, 8, 16, 32, 60 s for attempts 1..10 without jitter', () => {
    const delays = BASES.map((_, i) => backoffDelay(i + 1, () => 0.5));
    expect(delays).toEqual(BASES);
  });

  it('stays within ± 500 ms of the base for attempts 1..10 at the jitter extremes', () => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const base = BASES[attempt - 1] as number;
      expect(backoffDelay(attempt, () => 0)).toBe(base - 500);
      expect(backoffDelay(attempt, () => 0.999_999)).toBe(base + 500);
    }
  });

  it('spreads seeded jitter over the whole ± 500 ms band and reproduces it', () => {
    const a = seeded(42);
    const b = seeded(42);
    const offsets: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const attempt = (i % 10) + 1;
      const delay = backoffDelay(attempt, a);
      expect(delay).toBe(backoffDelay(attempt, b));
      offsets.push(delay - (BASES[attempt - 1] as number));
    }
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(-500);
    expect(Math.max(...offsets)).toBeLessThanOrEqual(500);
    expect(Math.min(...offsets)).toBeLessThan(-450);
    expect(Math.max(...offsets)).toBeGreaterThan(450);
  });

  it('never exceeds the cap plus jitter, however large the attempt', () => {
    expect(backoffDelay(1000, () => 0.999_999)).toBe(BACKOFF_CAP_MS + 500);
    expect(backoffDelay(0, () => 0.5)).toBe(1000);
  });
});

describe('reconnectDelay', () => {
  it('grows with consecutive failures and resets to 1 s on welcome', () => {
    const half = () => 0.5;
    let m = transition(initialMachine({ pollingFallback: false }), { type: 'connect' });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      m = transition(m, { type: 'ws_closed', code: null, detail: 'refused' });
      delays.push(reconnectDelay(m, half));
    }
    expect(delays).toEqual([2000, 4000, 8000, 16000]);
    m = transition(m, { type: 'welcome' });
    m = transition(m, { type: 'ws_closed', code: 1006, detail: '' });
    expect(reconnectDelay(m, half)).toBe(1000);
  });

  it('waits at the cap after close 4000 (replaced), rather than fight the other connection', () => {
    let m = transition(initialMachine({ pollingFallback: false }), { type: 'connect' });
    m = transition(m, { type: 'welcome' });
    m = transition(m, { type: 'ws_closed', code: 4000, detail: 'replaced' });
    expect(reconnectDelay(m, () => 0.5)).toBe(BACKOFF_CAP_MS);
  });
});

describe('AttemptLimiter', () => {
  it('lets 10 attempts through in a minute and holds the 11th until the oldest is a minute old', () => {
    const limiter = new AttemptLimiter();
    let now = 1_000_000;
    for (let i = 0; i < 10; i++) {
      expect(limiter.waitMs(now)).toBe(0);
      limiter.record(now);
      now += 1000;
    }
    // Ten attempts at t0..t0+9 s; at t0+10 s the next may start at t0+60 s.
    expect(limiter.waitMs(now)).toBe(50_000);
    now += 50_000;
    expect(limiter.waitMs(now)).toBe(0);
    limiter.record(now);
    expect(limiter.waitMs(now)).toBe(1000);
  });

  it('is a rolling window, not a fixed minute', () => {
    const limiter = new AttemptLimiter(10, 60_000);
    for (let i = 0; i < 10; i++) limiter.record(i * 6000);
    expect(limiter.waitMs(59_999)).toBe(1);
    expect(limiter.waitMs(60_000)).toBe(0);
  });

  it('never asks to wait more than a window when the wall clock goes backwards', () => {
    const limiter = new AttemptLimiter();
    for (let i = 0; i < 10; i++) limiter.record(10_000_000);
    expect(limiter.waitMs(0)).toBe(60_000);
  });
});
