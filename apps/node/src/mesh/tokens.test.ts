import { describe, expect, it } from 'vitest';
import {
  bearerToken,
  generateToken,
  hashToken,
  judgeToken,
  needsRenewal,
  RENEW_BELOW_MS,
  sameSecret,
  TOKEN_LENGTH,
  TOKEN_TTL_MS,
} from './tokens';

const DAY = 24 * 3600_000;
const NOW = Date.UTC(2026, 11, 4, 12);

describe('peer tokens', () => {
  it('are unique, of a fixed length and URL-safe', () => {
    const tokens = new Set(Array.from({ length: 2000 }, generateToken));
    expect(tokens.size).toBe(2000);
    for (const t of tokens) {
      expect(t).toHaveLength(TOKEN_LENGTH);
      expect(t).toMatch(/^cmt_[A-Za-z0-9_-]{43}$/);
    }
  });

  it('are stored as a SHA-256 hash that is not the token', () => {
    const t = generateToken();
    expect(hashToken(t)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(t)).toBe(hashToken(t));
    expect(hashToken(t)).not.toContain(t.slice(4));
    expect(hashToken(t)).not.toBe(hashToken(generateToken()));
  });

  it('compares secrets by value', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'abcd')).toBe(false);
  });

  it('rejects an unknown, revoked or expired token', () => {
    expect(judgeToken(null, NOW)).toEqual({ ok: false, code: 'MESH_TOKEN_UNKNOWN' });
    expect(judgeToken({ expiresAt: NOW + DAY, revokedAt: NOW - 1 }, NOW)).toEqual({
      ok: false,
      code: 'MESH_TOKEN_REVOKED',
    });
    expect(judgeToken({ expiresAt: NOW, revokedAt: null }, NOW)).toEqual({
      ok: false,
      code: 'MESH_TOKEN_EXPIRED',
    });
    expect(judgeToken({ expiresAt: NOW - DAY, revokedAt: null }, NOW).ok).toBe(false);
  });

  it('accepts a token with time left and leaves its expiry alone above 7 days', () => {
    expect(judgeToken({ expiresAt: NOW + 8 * DAY, revokedAt: null }, NOW)).toEqual({
      ok: true,
      renewTo: null,
    });
    expect(judgeToken({ expiresAt: NOW + RENEW_BELOW_MS, revokedAt: null }, NOW)).toEqual({
      ok: true,
      renewTo: null,
    });
  });

  it('extends a token with fewer than 7 days left to 30 days from now', () => {
    const t = { expiresAt: NOW + RENEW_BELOW_MS - 1, revokedAt: null };
    expect(needsRenewal(t, NOW)).toBe(true);
    expect(judgeToken(t, NOW)).toEqual({ ok: true, renewTo: NOW + TOKEN_TTL_MS });
    expect(judgeToken({ expiresAt: NOW + 1, revokedAt: null }, NOW)).toEqual({
      ok: true,
      renewTo: NOW + 30 * DAY,
    });
  });

  it('reads the token of a Bearer header only', () => {
    expect(bearerToken('Bearer cmt_abc')).toBe('cmt_abc');
    expect(bearerToken('bearer cmt_abc ')).toBe('cmt_abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});
