import { describe, expect, it } from 'vitest';
import { TokenBucket } from './pacer';

describe('TokenBucket', () => {
  it('gives a full burst at once, then the rate', () => {
    const b = new TokenBucket(1000, 100, 0);
    expect(b.take(500, 0)).toBe(100);
    expect(b.take(500, 0)).toBe(0);
    expect(b.waitMs(0)).toBe(1);
    expect(b.take(500, 50)).toBe(50);
    expect(b.take(500, 1000)).toBe(100);
  });

  it('averages the rate over a long backlog', () => {
    const b = new TokenBucket(20_000, 512, 0);
    let sent = 0;
    for (let t = 0; t <= 10_000; t += 4) sent += b.take(10_000, t);
    expect(sent).toBeGreaterThanOrEqual(200_000);
    expect(sent).toBeLessThanOrEqual(200_000 + 512);
  });

  it('neither gives nor takes when the clock goes backwards', () => {
    const b = new TokenBucket(1000, 10, 1000);
    expect(b.take(10, 1000)).toBe(10);
    expect(b.take(10, 0)).toBe(0);
    expect(b.take(10, 1005)).toBe(5);
  });
});
