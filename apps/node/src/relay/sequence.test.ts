import { describe, expect, it } from 'vitest';
import { InboundSequence } from './sequence';

describe('InboundSequence', () => {
  it('writes batches that follow each other, starting after the resume point', () => {
    const s = new InboundSequence({ epoch: 7, seq: 100 });
    expect(s.accept(7, 101, 10)).toEqual({ kind: 'write', skip: 0, gap: null, newEpoch: null });
    expect(s.accept(7, 111, 5)).toEqual({ kind: 'write', skip: 0, gap: null, newEpoch: null });
    expect(s.position).toEqual({ epoch: 7, seq: 115 });
    expect(s.counts).toMatchObject({ duplicates: 0, gaps: 0 });
  });

  it('drops a repeated batch silently and counts its frames', () => {
    const s = new InboundSequence({ epoch: 7, seq: 0 });
    s.accept(7, 1, 10);
    expect(s.accept(7, 1, 10)).toEqual({ kind: 'repeat' });
    expect(s.accept(7, 5, 6)).toEqual({ kind: 'repeat' });
    expect(s.position).toEqual({ epoch: 7, seq: 10 });
    expect(s.counts.duplicates).toBe(16);
  });

  it('skips the already-written head of a batch that overlaps the resume point', () => {
    const s = new InboundSequence({ epoch: 3, seq: 50 });
    expect(s.accept(3, 41, 20)).toEqual({ kind: 'write', skip: 10, gap: null, newEpoch: null });
    expect(s.position.seq).toBe(60);
    expect(s.counts.duplicates).toBe(10);
  });

  it('reports a jump forward once and carries on from the frame it got', () => {
    const s = new InboundSequence({ epoch: 3, seq: 0 });
    s.accept(3, 1, 10);
    expect(s.accept(3, 21, 5)).toEqual({
      kind: 'write',
      skip: 0,
      gap: { epoch: 3, expected: 11, got: 21 },
      newEpoch: null,
    });
    expect(s.accept(3, 26, 5)).toMatchObject({ kind: 'write', gap: null });
    expect(s.counts).toMatchObject({ gaps: 1, missing: 10 });
    // The missing frames arriving late are repeats by then: the order on the bus is kept.
    expect(s.accept(3, 11, 10)).toEqual({ kind: 'repeat' });
  });

  it('starts the numbering again at 1 in a new epoch', () => {
    const s = new InboundSequence({ epoch: 3, seq: 500 });
    expect(s.accept(9, 1, 4)).toEqual({ kind: 'write', skip: 0, gap: null, newEpoch: { from: 3, to: 9 } });
    expect(s.position).toEqual({ epoch: 9, seq: 4 });
    expect(s.counts.epochs).toBe(1);
  });

  it('counts the first epoch after a resume from nothing, and a gap when its first frames were trimmed', () => {
    const s = new InboundSequence({ epoch: 0, seq: 0 });
    expect(s.accept(5, 1, 2)).toMatchObject({ kind: 'write', gap: null, newEpoch: { from: 0, to: 5 } });
    const t = new InboundSequence({ epoch: 0, seq: 0 });
    expect(t.accept(5, 1001, 2)).toMatchObject({ gap: { epoch: 5, expected: 1, got: 1001 } });
  });

  it('refuses a batch that does not fit, changes nothing, and shows the hole with the next batch', () => {
    const s = new InboundSequence({ epoch: 1, seq: 0 });
    s.accept(1, 1, 10);
    expect(s.accept(1, 11, 10, 5)).toEqual({ kind: 'refused' });
    expect(s.position.seq).toBe(10);
    expect(s.accept(1, 21, 10, 100)).toMatchObject({ gap: { expected: 11, got: 21 } });
    expect(s.counts.refused).toBe(10);
  });

  it('needs room only for the new frames of an overlapping batch', () => {
    const s = new InboundSequence({ epoch: 1, seq: 8 });
    expect(s.accept(1, 1, 10, 2)).toMatchObject({ kind: 'write', skip: 8 });
  });
});
