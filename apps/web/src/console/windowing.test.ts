import { describe, expect, it } from 'vitest';
import { anchoredScrollTop, countNewer, rowWindow } from './windowing';

const base = { rowHeight: 28, viewportHeight: 420, overscan: 8 };

describe('rowWindow', () => {
  it('renders the first screenful plus the overscan at the top', () => {
    const w = rowWindow({ ...base, count: 10_000, scrollTop: 0 });
    expect(w).toEqual({ start: 0, end: 16 + 8, padTop: 0, padBottom: (10_000 - 24) * 28 });
  });

  it('renders only a window of rows anywhere in 10,000, padding standing in for the rest', () => {
    const scrollTop = 5_000 * 28 + 10;
    const w = rowWindow({ ...base, count: 10_000, scrollTop });
    expect(w.start).toBe(5_000 - 8);
    expect(w.end).toBe(5_000 + 16 + 8);
    expect(w.end - w.start).toBeLessThan(50);
    expect(w.padTop + (w.end - w.start) * 28 + w.padBottom).toBe(10_000 * 28);
  });

  it('keeps the last rows in view when scrolled past the end (a list that shrank)', () => {
    const w = rowWindow({ ...base, count: 100, scrollTop: 1_000_000 });
    expect(w.end).toBe(100);
    expect(w.padBottom).toBe(0);
    expect(w.start).toBe(100 - 15 - 8);
  });

  it('renders everything when the list is shorter than the viewport', () => {
    expect(rowWindow({ ...base, count: 5, scrollTop: 0 })).toEqual({
      start: 0,
      end: 5,
      padTop: 0,
      padBottom: 0,
    });
  });

  it('renders nothing for an empty list or a bad row height', () => {
    expect(rowWindow({ ...base, count: 0, scrollTop: 0 })).toEqual({
      start: 0,
      end: 0,
      padTop: 0,
      padBottom: 0,
    });
    expect(rowWindow({ ...base, rowHeight: 0, count: 10, scrollTop: 0 }).end).toBe(0);
  });

  it('treats a negative scroll position (elastic scrolling) as the top', () => {
    expect(rowWindow({ ...base, count: 1000, scrollTop: -40 }).start).toBe(0);
  });

  it('always covers the viewport, whatever the scroll position', () => {
    for (let scrollTop = 0; scrollTop < 1000 * 28; scrollTop += 97) {
      const w = rowWindow({ ...base, count: 1000, scrollTop });
      expect(w.padTop).toBeLessThanOrEqual(scrollTop);
      expect(w.end * 28).toBeGreaterThanOrEqual(Math.min(1000 * 28, scrollTop + base.viewportHeight));
    }
  });
});

describe('anchoredScrollTop', () => {
  it('follows the newest rows at the top', () => {
    expect(anchoredScrollTop(0, 5, 28)).toBe(0);
  });

  it('moves down by the rows added above, so that the rows in view stay put', () => {
    expect(anchoredScrollTop(280, 3, 28)).toBe(280 + 84);
  });

  it('does nothing when no row was added', () => {
    expect(anchoredScrollTop(280, 0, 28)).toBe(280);
  });
});

describe('countNewer', () => {
  const rows = [50, 48, 47, 40, 12].map((n) => ({ n }));

  it('counts the rows that arrived after a given one', () => {
    expect(countNewer(rows, 47)).toBe(2);
    expect(countNewer(rows, 45)).toBe(3); // filtered out, but the newer rows still count
    expect(countNewer(rows, 50)).toBe(0);
    expect(countNewer(rows, 1)).toBe(5);
    expect(countNewer([], 3)).toBe(0);
  });
});
