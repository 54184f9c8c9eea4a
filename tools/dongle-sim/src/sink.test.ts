import { describe, expect, it } from 'vitest';
import { Sink } from './sink';

const frame = (id: number, seq: number, extended = false) => {
  const data = new Uint8Array(8);
  new DataView(data.buffer).setUint32(0, seq);
  return { id, extended, data };
};

function feed(sink: Sink, id: number, seqs: number[]) {
  for (const [i, seq] of seqs.entries()) sink.record(frame(id, seq), 1000 + i);
}

describe('Sink', () => {
  it('counts frames in order without gaps, per id', () => {
    const sink = new Sink();
    feed(sink, 0x100, [0, 1, 2, 3]);
    feed(sink, 0x200, [10, 11]);
    const r = sink.report();
    expect(r.frames).toBe(6);
    expect(r.totals).toEqual({ gaps: 0, missing: 0, duplicates: 0, outOfOrder: 0 });
    expect(r.perId['0x100']).toMatchObject({ frames: 4, firstSeq: 0, lastSeq: 3 });
    expect(r.perId['0x200']).toMatchObject({ frames: 2, firstSeq: 10, lastSeq: 11 });
    expect(r.firstAt).toBe(1000);
    expect(r.lastAt).toBe(1001);
  });

  it('counts a jump forward as one gap and the numbers skipped as missing', () => {
    const sink = new Sink();
    feed(sink, 0x100, [0, 1, 5, 6, 9]);
    expect(sink.report().perId['0x100']).toMatchObject({ gaps: 2, missing: 5, duplicates: 0, outOfOrder: 0 });
  });

  it('counts a late number as out of order, and it is no longer missing', () => {
    const sink = new Sink();
    feed(sink, 0x100, [0, 2, 1, 3]);
    expect(sink.report().perId['0x100']).toMatchObject({ gaps: 1, missing: 0, outOfOrder: 1, duplicates: 0 });
  });

  it('counts a number seen before as a duplicate', () => {
    const sink = new Sink();
    feed(sink, 0x100, [0, 1, 1, 2, 0, 2]);
    expect(sink.report().perId['0x100']).toMatchObject({ gaps: 0, missing: 0, duplicates: 3, outOfOrder: 0 });
  });

  it('a late number that arrives twice is out of order once, then a duplicate', () => {
    const sink = new Sink();
    feed(sink, 0x100, [0, 2, 1, 1]);
    expect(sink.report().totals).toEqual({ gaps: 1, missing: 0, duplicates: 1, outOfOrder: 1 });
  });

  it('keeps sequences apart per id, 11-bit and 29-bit ids apart too', () => {
    const sink = new Sink();
    sink.record(frame(0x123, 0), 1);
    sink.record(frame(0x123, 0, true), 2);
    sink.record(frame(0x123, 1), 3);
    sink.record(frame(0x123, 1, true), 4);
    const r = sink.report();
    expect(Object.keys(r.perId)).toEqual(['0x00000123', '0x123']);
    expect(r.totals.duplicates).toBe(0);
  });

  it('counts frames under 4 bytes without reading a sequence', () => {
    const sink = new Sink();
    sink.record({ id: 0x7df, extended: false, data: Uint8Array.of(2, 1, 0x0c) }, 1);
    sink.record({ id: 0x7df, extended: false, data: Uint8Array.of(2, 1, 0x0c) }, 2);
    expect(sink.report().perId['0x7df']).toMatchObject({
      frames: 2,
      sequenced: 0,
      duplicates: 0,
      firstSeq: undefined,
    });
  });

  it('keeps the last 64 frames and forgets everything on reset', () => {
    const sink = new Sink();
    feed(
      sink,
      0x100,
      Array.from({ length: 100 }, (_, i) => i),
    );
    const recent = sink.report().recent;
    expect(recent).toHaveLength(64);
    expect(recent.at(-1)).toEqual({ id: '0x100', data: '0000006300000000', at: 1099 });
    sink.reset();
    expect(sink.report()).toEqual({
      frames: 0,
      totals: { gaps: 0, missing: 0, duplicates: 0, outOfOrder: 0 },
      firstAt: undefined,
      lastAt: undefined,
      perId: {},
      recent: [],
    });
  });
});
