import { describe, expect, it } from 'vitest';
import { ConsoleSampler, type SamplingChange } from './sampler';

/** Feeds `perS` frames a second for `seconds`, evenly spaced from `start`; returns kept count and changes. */
function feed(sampler: ConsoleSampler, start: number, perS: number, seconds: number) {
  let kept = 0;
  const changes: SamplingChange[] = [];
  const total = Math.round(perS * seconds);
  for (let i = 0; i < total; i++) {
    const { keep, change } = sampler.offer(start + (i * 1000) / perS);
    if (change) changes.push(change);
    if (keep) kept += 1;
  }
  return { kept, changes, end: start + seconds * 1000 };
}

describe('ConsoleSampler', () => {
  it('shows every frame at or under the threshold', () => {
    const sampler = new ConsoleSampler(500);
    const { kept, changes } = feed(sampler, 0, 500, 5);
    expect(kept).toBe(2500);
    expect(changes).toEqual([]);
    expect(sampler.oneIn).toBe(1);
  });

  it('keeps one in N above the threshold, N a power of two that brings the shown rate under it', () => {
    const sampler = new ConsoleSampler(500);
    feed(sampler, 0, 2000, 1); // the first second finds the rate
    const { kept, changes } = feed(sampler, 1000, 2000, 4);
    expect(sampler.oneIn).toBe(4);
    expect(changes).toEqual([]);
    expect(kept).toBe(2000); // 8,000 frames, 1 in 4
    const fast = new ConsoleSampler(500);
    feed(fast, 0, 10_000, 2);
    expect(fast.oneIn).toBe(32);
  });

  it('shows every CAN id of a round-robin rotation, not always the same one', () => {
    const sampler = new ConsoleSampler(500);
    const shown = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      // 4 ids in turn at 2,000 frames/s: 1 in 4 is kept.
      if (sampler.offer((i * 1000) / 2000).keep) shown.set(i % 4, (shown.get(i % 4) ?? 0) + 1);
    }
    expect(sampler.oneIn).toBe(4);
    expect([...shown.keys()].sort()).toEqual([0, 1, 2, 3]);
    for (const n of shown.values()) expect(n).toBeGreaterThan(800); // about 1,250 each
  });

  it('starts sampling a busy bus within the first 100 ms, announced with the rate measured', () => {
    const sampler = new ConsoleSampler(500);
    const first = feed(sampler, 0, 3000, 0.1);
    expect(first.changes).toEqual([]);
    expect(first.kept).toBe(300); // every frame before the rate could be read
    // 3,000/s is 6 × the threshold: 1 in 8 from 100 ms on, not 1 in 2, 4, 8 as the count passes 500, 1,000, 2,000.
    const rest = feed(sampler, 100, 3000, 0.8);
    expect(rest.changes).toEqual([{ oneIn: 8, previous: 1, ratePerS: 3000 }]);
    expect(rest.kept).toBe(2400 / 8);
    expect(feed(sampler, 900, 3000, 2).changes).toEqual([]);
  });

  it('does not take a short burst on a quiet bus for a high rate', () => {
    const sampler = new ConsoleSampler(500);
    // 120 frames in 24 ms (5,000/s for an instant), then 20 frames/s: far under the threshold over a window.
    const t = feed(sampler, 0, 5000, 0.024).end;
    const calm = feed(sampler, t + 50, 20, 3);
    expect(calm.changes).toEqual([]);
    expect(sampler.oneIn).toBe(1);
  });

  it('does not flap when the rate hovers at a boundary, and steps down once clearly under it', () => {
    const sampler = new ConsoleSampler(500);
    let t = feed(sampler, 0, 1100, 2).end; // N = 4 (2.2x the threshold)
    expect(sampler.oneIn).toBe(4);
    const hovering: SamplingChange[] = [];
    for (let i = 0; i < 10; i++) {
      const step = feed(sampler, t, i % 2 === 0 ? 950 : 1050, 1);
      hovering.push(...step.changes);
      t = step.end;
    }
    // 950/s would be N = 2, but not with the 25 % margin.
    expect(hovering.filter((c) => c.oneIn < c.previous)).toEqual([]);
    const down = feed(sampler, t, 700, 3);
    expect(sampler.oneIn).toBe(2);
    expect(down.changes.map((c) => c.oneIn)).toEqual([2]);
  });

  it('stops sampling when the rate falls, and when frames stop altogether', () => {
    const sampler = new ConsoleSampler(500);
    let t = feed(sampler, 0, 4000, 2).end;
    expect(sampler.oneIn).toBe(8);
    const calm = feed(sampler, t, 100, 3);
    expect(calm.changes.at(-1)).toEqual({ oneIn: 1, previous: 8, ratePerS: expect.any(Number) });
    expect(sampler.oneIn).toBe(1);

    t = feed(sampler, calm.end, 4000, 2).end;
    expect(sampler.oneIn).toBe(8);
    expect(sampler.idle(t + 200)).toBeNull(); // not yet a whole quiet window
    let stopped: SamplingChange | null = null;
    for (let at = t + 1000; at < t + 5000 && !stopped; at += 500) stopped = sampler.idle(at);
    expect(stopped).toMatchObject({ oneIn: 1, previous: 8, ratePerS: 0 });
    expect(sampler.isIdle(t + 20_000)).toBe(true);
  });
});
