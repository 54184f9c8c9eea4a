import { describe, expect, it } from 'vitest';
import { ApiError, NetworkError } from './errors';
import { codeSentence, errorMessage, fieldErrors } from './messages';

describe('errorMessage for the dongle actions', () => {
  it('counts the PIN tries left, in the singular for the last one', () => {
    const wrong = (left: unknown) =>
      errorMessage(new ApiError('PAIRING_PIN_INVALID', 400, '', { attempts_left: left }));
    expect(wrong(3)).toBe("That PIN doesn't match — 3 tries left.");
    expect(wrong(1)).toBe("That PIN doesn't match — 1 try left.");
    expect(wrong(undefined)).toBe("That PIN doesn't match — check it and try again.");
  });

  it('says when a locked dongle can be tried again', () => {
    expect(errorMessage(new ApiError('PAIRING_COOLDOWN', 409, '', { retry_after_s: 280 }))).toBe(
      'The dongle is locked after wrong PINs. Try again in 5 minutes.',
    );
  });

  it('tells a reset dongle and one on hold from any other conflict', () => {
    const conflict = (details: Record<string, unknown>) =>
      errorMessage(new ApiError('CONFLICT', 409, '', details));
    expect(conflict({ ownership_state: 'RESET_DETECTED' })).toMatch(/^This dongle was reset/);
    expect(conflict({ ownership_state: 'SECURITY_HOLD' })).toBe('Security hold — contact support.');
    expect(conflict({})).toMatch(/conflicts with the current state/);
  });

  it('lets a page say a code its own way, and never shows a server message', () => {
    const hold = new ApiError('PAIRING_SECURITY_HOLD', 409, 'Security hold — contact support');
    expect(errorMessage(hold, { PAIRING_SECURITY_HOLD: 'Too many wrong PINs.' })).toBe(
      'Too many wrong PINs.',
    );
    expect(codeSentence('PAIRING_SESSION_INVALID')).toBe('Pairing mode ended. Start again.');
    expect(errorMessage(new NetworkError())).toMatch(/Can't reach the Canopy server/);
  });
});

describe('fieldErrors for a CAN configuration', () => {
  it('names the field the server refused', () => {
    const error = new ApiError('VALIDATION_ERROR', 400, '', {
      fields: [{ path: 'bitrate', message: 'must be one of 10000, 20000' }],
    });
    expect(fieldErrors(error)).toEqual({ bitrate: 'Bitrate must be one of 10000, 20000.' });
  });
});
