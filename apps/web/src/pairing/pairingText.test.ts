import { describe, expect, it } from 'vitest';
import { ApiError, NetworkError } from '../api/errors';
import {
  afterPairingFailure,
  formatCountdown,
  offersPairing,
  PAIRING_TTL_MS,
  pairingBlocker,
  pairingDeadline,
  pinDigits,
} from './pairingText';

describe('formatCountdown', () => {
  it('shows minutes and two-digit seconds, rounded up', () => {
    expect(formatCountdown(120_000)).toBe('2:00');
    expect(formatCountdown(119_001)).toBe('2:00');
    expect(formatCountdown(114_000)).toBe('1:54');
    expect(formatCountdown(9_500)).toBe('0:10');
    expect(formatCountdown(1)).toBe('0:01');
  });

  it('stops at 0:00', () => {
    expect(formatCountdown(0)).toBe('0:00');
    expect(formatCountdown(-5_000)).toBe('0:00');
  });
});

describe('pairingDeadline', () => {
  const received = Date.parse('2030-01-01T12:00:00.000Z');

  it('keeps the time the cloud gives while it is plausible', () => {
    expect(pairingDeadline('2030-01-01T12:01:54.000Z', received)).toBe(received + 114_000);
  });

  it('counts the usual 120 s when the clocks disagree too much or the time is unreadable', () => {
    expect(pairingDeadline('2030-01-01T11:59:00.000Z', received)).toBe(received + PAIRING_TTL_MS);
    expect(pairingDeadline('2030-01-01T13:00:00.000Z', received)).toBe(received + PAIRING_TTL_MS);
    expect(pairingDeadline('soon', received)).toBe(received + PAIRING_TTL_MS);
  });
});

describe('offersPairing', () => {
  it('offers it for a dongle that is not the user’s, or the user’s that was reset', () => {
    expect(offersPairing({ owned: false, ownership_state: 'UNCLAIMED' })).toBe(true);
    expect(offersPairing({ owned: false, ownership_state: 'CLAIMED_ACTIVE' })).toBe(true);
    expect(offersPairing({ owned: true, ownership_state: 'RESET_DETECTED' })).toBe(true);
  });

  it('does not offer it for the user’s working dongle or one on hold', () => {
    expect(offersPairing({ owned: true, ownership_state: 'CLAIMED_ACTIVE' })).toBe(false);
    expect(offersPairing({ owned: true, ownership_state: 'SECURITY_HOLD' })).toBe(false);
    expect(offersPairing({ owned: false, ownership_state: 'SECURITY_HOLD' })).toBe(false);
  });
});

describe('pairingBlocker', () => {
  const free = { owned: false, ownership_state: 'UNCLAIMED', online: true } as const;

  it('lets an online unclaimed dongle, or the user’s reset one, be paired', () => {
    expect(pairingBlocker(free)).toBeNull();
    expect(pairingBlocker({ owned: true, ownership_state: 'RESET_DETECTED', online: true })).toBeNull();
  });

  it('says why not: a hold first, then another owner, then offline', () => {
    expect(pairingBlocker({ ...free, ownership_state: 'SECURITY_HOLD', online: false })).toBe(
      'Security hold — contact support.',
    );
    expect(pairingBlocker({ ...free, ownership_state: 'CLAIMED_ACTIVE', online: false })).toMatch(
      /another account/,
    );
    expect(pairingBlocker({ ...free, online: false })).toMatch(/None of your nodes/);
  });
});

describe('afterPairingFailure', () => {
  it('lets the user type the PIN again after a wrong PIN or a hiccup', () => {
    expect(afterPairingFailure(new ApiError('PAIRING_PIN_INVALID', 400, '', { attempts_left: 3 }))).toBe(
      'retry',
    );
    expect(afterPairingFailure(new ApiError('DONGLE_TIMEOUT', 504, ''))).toBe('retry');
    expect(afterPairingFailure(new NetworkError())).toBe('retry');
  });

  it('asks for a new pairing mode once this one is over', () => {
    expect(afterPairingFailure(new ApiError('PAIRING_SESSION_INVALID', 409, ''))).toBe('restart');
    expect(afterPairingFailure(new ApiError('PAIRING_REFUSED', 409, ''))).toBe('restart');
  });

  it('ends for good on a security hold or another owner', () => {
    expect(afterPairingFailure(new ApiError('PAIRING_SECURITY_HOLD', 409, ''))).toBe('final');
    expect(afterPairingFailure(new ApiError('DONGLE_OWNED_BY_OTHER', 409, ''))).toBe('final');
  });
});

describe('pinDigits', () => {
  it('keeps the digits of a pasted PIN, at most 6', () => {
    expect(pinDigits('123 456')).toBe('123456');
    expect(pinDigits('PIN: 123-456')).toBe('123456');
    expect(pinDigits('1234567')).toBe('123456');
    expect(pinDigits('abc')).toBe('');
  });
});
