import type { RelayFrame } from '@canopy/protocol/relay';
import { describe, expect, it } from 'vitest';
import { Downlink, type DownlinkOptions } from './downlink';
import type { Position } from './sequence';
import { ManualClock } from './testing/manual-clock';

const frame = (n: number): RelayFrame => ({
  tsUs: BigInt(n),
  id: 0x100,
  extended: false,
  flags: 0,
  data: new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]),
});
const frames = (from: number, count: number) => Array.from({ length: count }, (_, i) => frame(from + i));
const seqOf = (f: RelayFrame) => Buffer.from(f.data).readUInt32BE(0);

const make = (extra: Partial<DownlinkOptions> = {}) => {
  const clock = new ManualClock();
  const written: number[] = [];
  const acks: Position[] = [];
  const gaps: Array<{ expected: number; got: number }> = [];
  const down = new Downlink({
    clock,
    resume: { epoch: 0, seq: 0 },
    write: (f) => {
      written.push(seqOf(f));
      return true;
    },
    ack: (p) => acks.push(p),
    gap: (g) => gaps.push(g),
    ...extra,
  });
  return { clock, written, acks, gaps, down };
};

describe('Downlink', () => {
  it('writes nothing until the dongle is confirmed, then all of it in order, and acknowledges the last', () => {
    const { clock, written, acks, down } = make();
    down.deliver(4, 1, frames(1, 100));
    down.deliver(4, 101, frames(101, 100));
    clock.advance(1000);
    expect(written).toEqual([]);
    expect(acks).toEqual([]);
    expect(down.queued).toBe(200);
    down.writable = true;
    clock.advance(100);
    expect(written).toEqual(frames(1, 200).map(seqOf));
    expect(acks.at(-1)).toEqual({ epoch: 4, seq: 200 });
    expect(down.queued).toBe(0);
  });

  it('drops repeats and the already-written head of an overlapping batch', () => {
    const { clock, written, gaps, down } = make({ resume: { epoch: 4, seq: 10 } });
    down.writable = true;
    down.deliver(4, 1, frames(1, 10));
    down.deliver(4, 6, frames(6, 10));
    down.deliver(4, 6, frames(6, 10));
    clock.advance(100);
    expect(written).toEqual([11, 12, 13, 14, 15]);
    expect(gaps).toEqual([]);
    expect(down.sequence.counts.duplicates).toBe(25);
  });

  it('reports a gap once and writes on from the frame it got', () => {
    const { clock, written, gaps, down } = make();
    down.writable = true;
    down.deliver(4, 1, frames(1, 5));
    down.deliver(4, 11, frames(11, 5));
    down.deliver(4, 16, frames(16, 5));
    clock.advance(100);
    expect(gaps).toEqual([{ epoch: 4, expected: 6, got: 11 }]);
    expect(written).toEqual([1, 2, 3, 4, 5, ...frames(11, 10).map(seqOf)]);
  });

  it('writes a backlog at the pace, not in one burst', () => {
    const { clock, written, down } = make({ rate: 10_000, burst: 100 });
    down.deliver(1, 1, frames(1, 1000));
    down.deliver(1, 1001, frames(1001, 1000));
    down.writable = true;
    expect(written).toHaveLength(100);
    clock.advance(50);
    expect(written.length).toBeGreaterThanOrEqual(590);
    expect(written.length).toBeLessThanOrEqual(610);
    clock.advance(200);
    expect(written).toEqual(frames(1, 2000).map(seqOf));
  });

  it('refuses what does not fit in the queue and reports the hole with the next batch', () => {
    const { clock, written, gaps, acks, down } = make({ maxQueued: 150 });
    down.deliver(2, 1, frames(1, 100));
    down.deliver(2, 101, frames(101, 100));
    down.writable = true;
    clock.advance(100);
    down.deliver(2, 201, frames(201, 10));
    clock.advance(100);
    expect(gaps).toEqual([{ epoch: 2, expected: 101, got: 201 }]);
    expect(written).toEqual([...frames(1, 100), ...frames(201, 10)].map(seqOf));
    expect(acks.at(-1)).toEqual({ epoch: 2, seq: 210 });
  });

  it('stops writing when the dongle is no longer confirmed, and keeps the rest queued', () => {
    const { clock, written, down } = make({ rate: 1000, burst: 10 });
    down.deliver(1, 1, frames(1, 100));
    down.writable = true;
    expect(written).toHaveLength(10);
    down.writable = false;
    clock.advance(1000);
    expect(written).toHaveLength(10);
    down.writable = true;
    clock.advance(1000);
    expect(written).toHaveLength(100);
  });

  it('acknowledges each epoch with its own numbering after a reset', () => {
    const epochs: Array<{ from: number; to: number }> = [];
    const { clock, acks, written, down } = make({
      resume: { epoch: 4, seq: 500 },
      newEpoch: (e) => epochs.push(e),
    });
    down.writable = true;
    down.deliver(9, 1, frames(1, 3));
    clock.advance(60);
    expect(epochs).toEqual([{ from: 4, to: 9 }]);
    expect(written).toEqual([1, 2, 3]);
    expect(acks).toEqual([{ epoch: 9, seq: 3 }]);
  });

  it('close() forgets the queue and its timers', () => {
    const { clock, written, down } = make({ rate: 100, burst: 1 });
    down.deliver(1, 1, frames(1, 10));
    down.writable = true;
    down.close();
    clock.advance(10_000);
    expect(written).toHaveLength(1);
    expect(clock.timers).toBe(0);
  });
});
