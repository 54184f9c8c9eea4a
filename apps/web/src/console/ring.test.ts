import { describe, expect, it } from 'vitest';
import { Ring } from './ring';

describe('Ring', () => {
  it('keeps items in push order until it is full', () => {
    const ring = new Ring<number>(3);
    ring.push(1);
    ring.push(2);
    expect(ring.size).toBe(2);
    expect([ring.at(0), ring.at(1), ring.at(2)]).toEqual([1, 2, undefined]);
    expect(ring.newestFirst()).toEqual([2, 1]);
  });

  it('drops the oldest item once full, and counts what it dropped', () => {
    const ring = new Ring<number>(3);
    for (let i = 1; i <= 7; i++) ring.push(i);
    expect(ring.size).toBe(3);
    expect(ring.total).toBe(7);
    expect(ring.dropped).toBe(4);
    expect(ring.newestFirst()).toEqual([7, 6, 5]);
    expect(ring.at(0)).toBe(5);
    expect(ring.at(2)).toBe(7);
  });

  it('holds 10,000 of 25,000 frames, the newest', () => {
    const ring = new Ring<number>(10_000);
    for (let i = 0; i < 25_000; i++) ring.push(i);
    const view = ring.newestFirst();
    expect(view).toHaveLength(10_000);
    expect(view[0]).toBe(24_999);
    expect(view[9_999]).toBe(15_000);
  });

  it('answers undefined outside its items', () => {
    const ring = new Ring<string>(2);
    ring.push('a');
    expect(ring.at(-1)).toBeUndefined();
    expect(ring.at(1)).toBeUndefined();
    expect(ring.at(0.5)).toBeUndefined();
  });

  it('starts over after clear, keeping the total', () => {
    const ring = new Ring<number>(2);
    ring.push(1);
    ring.push(2);
    ring.push(3);
    ring.clear();
    expect(ring.size).toBe(0);
    expect(ring.newestFirst()).toEqual([]);
    ring.push(4);
    expect(ring.newestFirst()).toEqual([4]);
    expect(ring.total).toBe(4);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new Ring(0)).toThrow(RangeError);
    expect(() => new Ring(1.5)).toThrow(RangeError);
  });
});
