import { describe, expect, it } from 'vitest';
import { localExpiry, refreshDelayMs, serverOffset } from './token-expiry';

describe('refreshDelayMs', () => {
  it('refreshes a 60-minute token at 55 minutes (spec 000 §6)', () => {
    expect(refreshDelayMs(60 * 60_000)).toBe(55 * 60_000);
  });

  it('refreshes a 5-second token at 80 % of its lifetime', () => {
    expect(refreshDelayMs(5000)).toBe(4000);
  });

  it('uses the smaller margin of 5 minutes and 20 % of the lifetime', () => {
    expect(refreshDelayMs(25 * 60_000)).toBe(20 * 60_000);
    expect(refreshDelayMs(10 * 60_000)).toBe(8 * 60_000);
  });

  it('never schedules sooner than 1 s, even for an expired token', () => {
    expect(refreshDelayMs(800)).toBe(1000);
    expect(refreshDelayMs(-30_000)).toBe(1000);
  });
});

describe('local expiry', () => {
  it('corrects for a local clock that runs behind the cloud', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    // The cloud says 12:10 when the local clock says 12:00.
    const offset = serverOffset('2026-01-01T12:10:00Z', now);
    expect(localExpiry('2026-01-01T13:10:00Z', offset, now)).toBe(now + 60 * 60_000);
  });

  it('treats unreadable times as a short-lived token and no offset', () => {
    expect(serverOffset('soon', 5)).toBe(0);
    expect(localExpiry('later', 0, 1000)).toBe(1000 + 10 * 60_000);
  });
});
