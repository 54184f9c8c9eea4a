import { describe, expect, it } from 'vitest';
import { RateMeter, sparkline } from './rate';

const T0 = 1_766_417_462_000; // a whole second

describe('RateMeter', () => {
  it('counts the frames of each whole second, oldest first', () => {
    const meter = new RateMeter(5);
    meter.add(T0 + 100);
    meter.add(T0 + 900, 2);
    meter.add(T0 + 2_500, 4);
    expect(meter.series(T0 + 3_200)).toEqual([0, 0, 3, 0, 4]);
    expect(meter.perSecond(T0 + 3_200)).toBe(4);
  });

  it('leaves the second in progress out', () => {
    const meter = new RateMeter(3);
    meter.add(T0 + 10, 7);
    expect(meter.series(T0 + 500)).toEqual([0, 0, 0]);
    expect(meter.perSecond(T0 + 500)).toBe(0);
    expect(meter.perSecond(T0 + 1_000)).toBe(7);
  });

  it('forgets seconds older than its window, even when a slot is reused', () => {
    const meter = new RateMeter(60);
    meter.add(T0, 100);
    meter.add(T0 + 61_000, 5); // the same slot, a minute later
    const series = meter.series(T0 + 62_000);
    expect(series.at(-1)).toBe(5);
    expect(series.reduce((a, b) => a + b, 0)).toBe(5);
  });

  it('reads zero after a quiet stretch longer than the window', () => {
    const meter = new RateMeter(60);
    meter.add(T0, 500);
    expect(meter.series(T0 + 10 * 60_000).every((v) => v === 0)).toBe(true);
    expect(meter.perSecond(T0 + 10 * 60_000)).toBe(0);
  });

  it('keeps up with 2,000 frames a second for a minute', () => {
    const meter = new RateMeter(60);
    for (let i = 0; i < 120_000; i++) meter.add(T0 + i / 2);
    expect(meter.series(T0 + 60_000)).toEqual(new Array(60).fill(2_000));
  });
});

describe('sparkline', () => {
  it('draws the oldest value on the left and scales to the largest', () => {
    const s = sparkline([0, 5, 10], 100, 20);
    expect(s.max).toBe(10);
    expect(s.line).toBe('0,20 50,10 100,0');
    expect(s.area).toBe('0,20 0,20 50,10 100,0 100,20');
  });

  it('draws a quiet minute as a flat line at the bottom', () => {
    const s = sparkline(new Array(60).fill(0), 118, 24);
    expect(s.max).toBe(1);
    expect(s.line.split(' ').every((p) => p.endsWith(',24'))).toBe(true);
    expect(s.line.split(' ').at(-1)).toBe('118,24');
  });

  it('draws nothing for no values', () => {
    expect(sparkline([], 100, 20)).toEqual({ line: '', area: '', max: 1 });
  });
});
