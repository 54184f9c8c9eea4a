import { describe, expect, it } from 'vitest';
import {
  formatCode,
  generatePairingCode,
  generatePin,
  judgePin,
  MAX_PIN_ATTEMPTS,
  normalizeCode,
  normalizePin,
  SourceLimiter,
} from './pairing-rules';

const NOW = 1_000_000;
const open = (attempts = 0) => ({ expiresAt: NOW + 60_000, attempts, usedAt: null });

describe('pairing codes and PINs', () => {
  it('makes 8-character codes and 6-digit PINs', () => {
    for (let i = 0; i < 200; i++) {
      expect(generatePairingCode()).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
      expect(generatePin()).toMatch(/^\d{6}$/);
    }
  });

  it('reads a typed code whatever its case, dashes and look-alike letters', () => {
    expect(normalizeCode(' 7kq2-m9xd ')).toBe('7KQ2M9XD');
    expect(normalizeCode('O1LI')).toBe('0111');
    expect(formatCode('7KQ2M9XD')).toBe('7KQ2-M9XD');
    expect(normalizePin('123 456')).toBe('123456');
  });

  it('accepts the right PIN on a live code', () => {
    expect(judgePin(open(), true, NOW)).toEqual({ ok: true });
    expect(judgePin(open(4), true, NOW)).toEqual({ ok: true });
  });

  it('counts wrong PINs and says how many tries are left', () => {
    expect(judgePin(open(), false, NOW)).toEqual({
      ok: false,
      code: 'MESH_PAIRING_PIN_INVALID',
      attempts: 1,
      triesLeft: 4,
    });
    expect(judgePin(open(3), false, NOW)).toMatchObject({ code: 'MESH_PAIRING_PIN_INVALID', triesLeft: 1 });
  });

  it('kills the code at the fifth wrong PIN, and refuses even the right PIN after that', () => {
    expect(judgePin(open(MAX_PIN_ATTEMPTS - 1), false, NOW)).toEqual({
      ok: false,
      code: 'MESH_PAIRING_CODE_DEAD',
      attempts: 5,
    });
    expect(judgePin(open(5), true, NOW)).toMatchObject({ ok: false, code: 'MESH_PAIRING_CODE_DEAD' });
  });

  it('refuses an unknown, expired or used code', () => {
    expect(judgePin(null, true, NOW)).toEqual({ ok: false, code: 'MESH_PAIRING_CODE_INVALID' });
    expect(judgePin({ ...open(), expiresAt: NOW }, true, NOW).ok).toBe(false);
    expect(judgePin({ ...open(), usedAt: NOW - 1 }, true, NOW).ok).toBe(false);
  });

  it('blocks a source after 20 failures in 10 minutes, and forgets them afterwards', () => {
    const limiter = new SourceLimiter(20, 600_000);
    for (let i = 0; i < 19; i++) limiter.fail('10.0.0.9', NOW + i);
    expect(limiter.blocked('10.0.0.9', NOW + 100)).toBe(false);
    limiter.fail('10.0.0.9', NOW + 100);
    expect(limiter.blocked('10.0.0.9', NOW + 101)).toBe(true);
    expect(limiter.blocked('10.0.0.8', NOW + 101)).toBe(false);
    expect(limiter.blocked('10.0.0.9', NOW + 600_101)).toBe(false);
  });
});
