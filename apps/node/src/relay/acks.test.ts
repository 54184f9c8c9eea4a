import { describe, expect, it } from 'vitest';
import { AckPacer } from './acks';
import type { Position } from './sequence';
import { ManualClock } from './testing/manual-clock';

const make = () => {
  const clock = new ManualClock();
  const sent: Array<Position & { at: number }> = [];
  const start = clock.now();
  const acks = new AckPacer({ clock, send: (p) => sent.push({ ...p, at: clock.now() - start }) });
  return { clock, sent, acks };
};

describe('AckPacer', () => {
  it('acknowledges at most every 50 ms while frames flow, always the last frame written', () => {
    const { clock, sent, acks } = make();
    for (let t = 0; t < 200; t++) {
      acks.wrote({ epoch: 1, seq: t + 1 });
      clock.advance(1);
    }
    expect(sent.map((s) => s.at)).toEqual([50, 100, 150, 200]);
    expect(sent.map((s) => s.seq)).toEqual([50, 100, 150, 200]);
  });

  it('sends the last position once more 50 ms after the last write, then nothing', () => {
    const { clock, sent, acks } = make();
    acks.wrote({ epoch: 1, seq: 10 });
    clock.advance(30);
    acks.wrote({ epoch: 1, seq: 20 });
    clock.advance(20);
    expect(sent).toEqual([{ epoch: 1, seq: 20, at: 50 }]);
    clock.advance(1000);
    expect(sent).toHaveLength(1);
    expect(clock.timers).toBe(0);
  });

  it('flush() sends an unsent position at once and never the same one twice', () => {
    const { clock, sent, acks } = make();
    acks.flush();
    acks.wrote({ epoch: 2, seq: 5 });
    acks.flush();
    acks.flush();
    clock.advance(100);
    expect(sent).toEqual([{ epoch: 2, seq: 5, at: 0 }]);
    acks.wrote({ epoch: 3, seq: 5 });
    acks.flush();
    expect(sent.at(-1)).toMatchObject({ epoch: 3, seq: 5 });
  });
});
