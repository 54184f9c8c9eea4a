import { describe, expect, it } from 'vitest';
import { applyFilter, type FrameFilter, idMatches, parseIdFilter, type Way } from './filter';

function ids(text: string) {
  const parsed = parseIdFilter(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.filter;
}

describe('parseIdFilter', () => {
  it('filters nothing when the box is empty or blank', () => {
    expect(parseIdFilter('')).toEqual({ ok: true, filter: null });
    expect(parseIdFilter('  , ')).toEqual({ ok: true, filter: null });
  });

  it('reads one id, with or without 0x, in either case', () => {
    for (const text of ['7E8', '0x7E8', '7e8', '0X7e8', ' 7E8 ']) {
      expect(ids(text)).toEqual({ ranges: [{ from: 0x7e8, to: 0x7e8 }] });
    }
  });

  it('reads several ids separated by commas, spaces or semicolons', () => {
    expect(ids('7DF, 7E8 0x100;200')?.ranges.map((r) => r.from)).toEqual([0x7df, 0x7e8, 0x100, 0x200]);
  });

  it('reads ranges', () => {
    const filter = ids('7E8-7EF');
    expect(filter).toEqual({ ranges: [{ from: 0x7e8, to: 0x7ef }] });
    expect(idMatches(filter, 0x7e8)).toBe(true);
    expect(idMatches(filter, 0x7ec)).toBe(true);
    expect(idMatches(filter, 0x7ef)).toBe(true);
    expect(idMatches(filter, 0x7df)).toBe(false);
  });

  it('reads 29-bit ids up to 0x1FFFFFFF', () => {
    expect(ids('18DAF110')?.ranges[0]?.from).toBe(0x18daf110);
    expect(parseIdFilter('20000000').ok).toBe(false);
  });

  it('says in plain words what is wrong with a typed id', () => {
    const bad = parseIdFilter('7E8, 7G8');
    expect(bad).toEqual({
      ok: false,
      problem: '"7G8" is not a CAN id in hex. Type ids like 7E8 or 0x7DF, or a range like 7E8-7EF.',
    });
    expect(parseIdFilter('1-2-3').ok).toBe(false);
    expect(parseIdFilter('7E8-').ok).toBe(false);
    expect(parseIdFilter('123456789').ok).toBe(false);
    expect(parseIdFilter('7EF-7E8')).toEqual({
      ok: false,
      problem: 'The range "7EF-7E8" ends before it starts.',
    });
  });
});

describe('applyFilter', () => {
  const frames: { id: number; way: Way }[] = [
    { id: 0x7df, way: 'b_to_a' },
    { id: 0x7e8, way: 'a_to_b' },
    { id: 0x100, way: 'a_to_b' },
    { id: 0x7e9, way: 'a_to_b' },
  ];

  it('returns the very same array when nothing is filtered', () => {
    expect(applyFilter(frames, { ids: null, way: 'all' })).toBe(frames);
  });

  it('keeps the frames of the typed ids, in order', () => {
    expect(applyFilter(frames, { ids: ids('7E8 7DF'), way: 'all' }).map((f) => f.id)).toEqual([0x7df, 0x7e8]);
  });

  it('keeps one direction', () => {
    expect(applyFilter(frames, { ids: null, way: 'b_to_a' })).toEqual([frames[0]]);
  });

  it('combines ids and direction', () => {
    const filter: FrameFilter = { ids: ids('7E8-7EF, 7DF'), way: 'a_to_b' };
    expect(applyFilter(frames, filter).map((f) => f.id)).toEqual([0x7e8, 0x7e9]);
  });
});
