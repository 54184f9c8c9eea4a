import { describe, expect, it } from 'vitest';
import {
  achievedRate,
  FrameSource,
  framesOwed,
  MAX_BATCH,
  parsePattern,
  plannedTotal,
  type TrafficPlan,
} from './traffic';

const plan = (over: Partial<TrafficPlan> = {}): TrafficPlan => ({
  rate: 1000,
  ids: [{ id: 0x100, extended: false }],
  pattern: { kind: 'counter' },
  dlc: 8,
  ...over,
});

describe('framesOwed', () => {
  it('sends the first frame at once, then one per 1/rate', () => {
    expect(framesOwed(0, 9000, 0, undefined)).toBe(1);
    expect(framesOwed(0, 9000, 1, undefined)).toBe(0);
    expect(framesOwed(4, 9000, 1, undefined)).toBe(36); // due: floor(4 × 9) + 1 = 37
    expect(framesOwed(1000, 9000, 37, undefined)).toBe(MAX_BATCH);
  });

  it('holds the average rate whatever the timer jitter', () => {
    for (const rate of [1, 10, 333, 1000, 9000]) {
      let sent = 0;
      let t = 0;
      const jitter = [3, 7, 4, 12, 1, 4, 25, 4];
      for (let i = 0; t < 10_000; i++) {
        t += jitter[i % jitter.length] as number;
        sent += framesOwed(t, rate, sent, undefined, Number.POSITIVE_INFINITY);
      }
      expect(sent).toBe(Math.floor((t * rate) / 1000) + 1);
    }
  });

  it('never sends past the total, nor more than a batch at once', () => {
    expect(framesOwed(10_000, 9000, 0, 100)).toBe(100);
    expect(framesOwed(10_000, 9000, 100, 100)).toBe(0);
    expect(framesOwed(10_000, 9000, 0, undefined, 50)).toBe(50);
    expect(framesOwed(-5, 9000, 0, undefined)).toBe(1);
  });

  it('at 9,000 frames/s a 4 ms tick sends about 36', () => {
    let sent = 0;
    const batches: number[] = [];
    for (let t = 0; t <= 1000; t += 4) {
      const n = framesOwed(t, 9000, sent, 9000);
      batches.push(n);
      sent += n;
    }
    expect(sent).toBe(9000);
    expect(Math.max(...batches.slice(1))).toBe(36);
  });
});

describe('plannedTotal and achievedRate', () => {
  it('takes the count, the duration at the rate, or the smaller of both', () => {
    expect(plannedTotal({ rate: 9000, count: 500 })).toBe(500);
    expect(plannedTotal({ rate: 9000, durationMs: 250 })).toBe(2250);
    expect(plannedTotal({ rate: 9000, count: 500, durationMs: 10 })).toBe(90);
    expect(plannedTotal({ rate: 1, durationMs: 10 })).toBe(1);
    expect(plannedTotal({ rate: 9000 })).toBeUndefined();
  });

  it('measures the rate from the first frame to the last', () => {
    expect(achievedRate(9000, 999.9)).toBeCloseTo(9000, -1);
    expect(achievedRate(1, 0)).toBe(0);
  });
});

describe('FrameSource', () => {
  it('puts a big-endian counter per id in data[0..3], ids round-robin', () => {
    const source = new FrameSource(
      plan({
        ids: [
          { id: 0x100, extended: false },
          { id: 0x18daf110, extended: true },
        ],
      }),
    );
    const frames = Array.from({ length: 6 }, () => source.next());
    expect(frames.map((f) => f.id)).toEqual([0x100, 0x18daf110, 0x100, 0x18daf110, 0x100, 0x18daf110]);
    expect(frames.map((f) => new DataView(f.data.buffer).getUint32(0))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(frames[0]?.data).toHaveLength(8);
  });

  it('sends fixed bytes as given and random bytes repeatably from a seed', () => {
    const fixed = new FrameSource(plan({ pattern: { kind: 'fixed', data: Uint8Array.of(1, 2, 3) } }));
    expect(Array.from(fixed.next().data)).toEqual([1, 2, 3]);
    const a = new FrameSource(plan({ pattern: { kind: 'random' }, seed: 42, dlc: 8 }));
    const b = new FrameSource(plan({ pattern: { kind: 'random' }, seed: 42, dlc: 8 }));
    const first = a.next().data;
    expect(first).toEqual(b.next().data);
    expect(a.next().data).not.toEqual(first);
  });
});

describe('parsePattern', () => {
  it('reads counter, random and fixed:<hex>', () => {
    expect(parsePattern('counter')).toEqual({ kind: 'counter' });
    expect(parsePattern('random')).toEqual({ kind: 'random' });
    expect(parsePattern('fixed:0102ff')).toEqual({ kind: 'fixed', data: Uint8Array.of(1, 2, 0xff) });
    expect(parsePattern('fixed:')).toEqual({ kind: 'fixed', data: new Uint8Array(0) });
    expect(parsePattern('fixed:010')).toBeUndefined();
    expect(parsePattern('fixed:010203040506070809')).toBeUndefined();
    expect(parsePattern('sine')).toBeUndefined();
  });
});
