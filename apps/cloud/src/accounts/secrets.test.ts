import { describe, expect, it } from 'vitest';
import { deriveSecret, hashSecret, newSecret, safeEqual } from './secrets';

describe('secrets', () => {
  it('makes distinct 256-bit URL-safe secrets', () => {
    const all = new Set(Array.from({ length: 1000 }, newSecret));
    expect(all.size).toBe(1000);
    for (const s of all) expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('hashes deterministically without revealing the secret', () => {
    const s = newSecret();
    expect(hashSecret(s)).toBe(hashSecret(s));
    expect(hashSecret(s)).not.toContain(s);
    expect(hashSecret(s)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('derives per-purpose values and compares in constant time', () => {
    const s = newSecret();
    expect(deriveSecret(s, 'a')).not.toBe(deriveSecret(s, 'b'));
    expect(safeEqual(deriveSecret(s, 'a'), deriveSecret(s, 'a'))).toBe(true);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });
});
