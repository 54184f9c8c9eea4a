import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher';
import { ManualClock } from './testing/manual-clock';

const make = (maxBatch = 4, delayMs = 2) => {
  const clock = new ManualClock();
  const sent: number[][] = [];
  const batcher = new Batcher<number>({ clock, maxBatch, delayMs, flush: (items) => sent.push(items) });
  return { clock, sent, batcher };
};

describe('Batcher', () => {
  it('flushes 2 ms after the first frame of a batch, not after the later ones', () => {
    const { clock, sent, batcher } = make();
    batcher.push(1);
    clock.advance(1);
    batcher.push(2);
    clock.advance(0.9);
    expect(sent).toEqual([]);
    clock.advance(0.1);
    expect(sent).toEqual([[1, 2]]);
    batcher.push(3);
    clock.advance(2);
    expect(sent).toEqual([[1, 2], [3]]);
  });

  it('flushes at once when MAX_BATCH frames wait, and starts the next batch with its own timer', () => {
    const { clock, sent, batcher } = make(3);
    for (let i = 1; i <= 4; i++) batcher.push(i);
    expect(sent).toEqual([[1, 2, 3]]);
    expect(batcher.pending).toBe(1);
    clock.advance(2);
    expect(sent).toEqual([[1, 2, 3], [4]]);
    expect(clock.timers).toBe(0);
  });

  it('keeps order across many batches and loses nothing', () => {
    const { clock, sent, batcher } = make(7);
    for (let i = 0; i < 1000; i++) {
      batcher.push(i);
      if (i % 13 === 0) clock.advance(1);
    }
    clock.advance(5);
    expect(sent.flat()).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Math.max(...sent.map((b) => b.length))).toBeLessThanOrEqual(7);
  });

  it('lowers its limit to the far end max_batch, never raises it', () => {
    const { sent, batcher } = make(4);
    batcher.limit(2);
    batcher.push(1);
    batcher.push(2);
    expect(sent).toEqual([[1, 2]]);
    batcher.limit(100);
    for (let i = 0; i < 4; i++) batcher.push(i);
    expect(sent.at(-1)).toEqual([0, 1, 2, 3]);
  });

  it('flush() sends what waits now; clear() forgets it and its timer', () => {
    const { clock, sent, batcher } = make();
    batcher.push(1);
    batcher.flush();
    expect(sent).toEqual([[1]]);
    batcher.push(2);
    batcher.clear();
    clock.advance(10);
    expect(sent).toEqual([[1]]);
    expect(clock.timers).toBe(0);
  });
});
