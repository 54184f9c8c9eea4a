import { describe, expect, it } from 'vitest';
import { Pacer } from './pacer';

describe('Pacer', () => {
  it('lets a tenth of a second of frames go at once, then holds the rate', () => {
    let now = 0;
    const pacer = new Pacer(5000, () => now);
    expect(pacer.take(500)).toBe(0);
    expect(pacer.take(100)).toBe(20); // 100 frames at 5,000/s
    now += 20;
    expect(pacer.take(100)).toBe(20);
  });

  it('averages the rate over many batches of any size', () => {
    let now = 0;
    const pacer = new Pacer(5000, () => now);
    let sent = 0;
    while (now < 10_000) {
      const n = 1 + (sent % 97);
      now += pacer.take(n);
      sent += n;
    }
    expect(sent / 10).toBeGreaterThan(4900);
    expect(sent / 10).toBeLessThan(5100);
  });

  it('does not save up more than the burst while idle', () => {
    let now = 0;
    const pacer = new Pacer(1000, () => now);
    now += 60_000;
    expect(pacer.take(100)).toBe(0);
    expect(pacer.take(100)).toBe(100);
  });
});
