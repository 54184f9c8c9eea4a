import { describe, expect, it } from 'vitest';
import { PairingMachine } from './pairing';

const NONCE = new Uint8Array(16).fill(7);
const OTHER_NONCE = new Uint8Array(16).fill(8);

function machine() {
  let now = 1_000_000;
  let pins = 0;
  const m = new PairingMachine({
    clock: () => now,
    windowMs: 120_000,
    cooldownMs: 300_000,
    newPin: () => ['123456', '654321', '111111'][pins++ % 3] as string,
    newNonce: () => NONCE,
  });
  return { m, advance: (ms: number) => (now += ms) };
}

describe('PairingMachine', () => {
  it('starts pairing mode with a PIN, a nonce and the whole window', () => {
    const { m } = machine();
    expect(m.snapshot().phase).toBe('idle');
    expect(m.start()).toEqual({ status: 'ok', seconds: 120, pin: '123456', nonce: NONCE, fresh: true });
    expect(m.snapshot()).toMatchObject({ phase: 'pairing', secondsLeft: 120, pin: '123456', wrongPins: 0 });
  });

  it('keeps the same PIN when started again within the window, without extending it', () => {
    const { m, advance } = machine();
    m.start();
    advance(30_000);
    expect(m.start()).toMatchObject({ status: 'ok', seconds: 90, pin: '123456', fresh: false });
  });

  it('ends pairing mode when the window expires, and the next start has a fresh PIN', () => {
    const { m, advance } = machine();
    m.start();
    advance(119_999);
    expect(m.snapshot()).toMatchObject({ phase: 'pairing', secondsLeft: 1 });
    advance(1);
    expect(m.snapshot().phase).toBe('idle');
    expect(m.submit('123456', NONCE)).toEqual({ status: 'error', reason: 'not in pairing mode' });
    expect(m.start()).toMatchObject({ status: 'ok', pin: '654321', fresh: true });
  });

  it('accepts the right PIN with the right nonce, and pairing mode ends', () => {
    const { m } = machine();
    m.start();
    expect(m.submit('123456', NONCE)).toEqual({ status: 'ok' });
    expect(m.snapshot().phase).toBe('idle');
  });

  it('refuses a submit whose nonce is not the one announced, without counting a wrong PIN', () => {
    const { m } = machine();
    m.start();
    expect(m.submit('123456', OTHER_NONCE)).toEqual({ status: 'error', reason: 'nonce mismatch' });
    expect(m.snapshot()).toMatchObject({ phase: 'pairing', wrongPins: 0 });
  });

  it('answers invalid_pin with the seconds left for wrong PINs 1 to 4', () => {
    const { m, advance } = machine();
    m.start();
    for (let i = 1; i <= 4; i++) {
      advance(1000);
      expect(m.submit('000000', NONCE)).toEqual({ status: 'invalid_pin', seconds: 120 - i, wrongPins: i });
    }
    expect(m.submit('123456', NONCE)).toEqual({ status: 'ok' });
  });

  it('enters a 5-minute cooldown on the 5th wrong PIN, refusing starts and submits until it expires', () => {
    const { m, advance } = machine();
    m.start();
    for (let i = 1; i <= 4; i++) m.submit('000000', NONCE);
    expect(m.submit('999999', NONCE)).toEqual({ status: 'cooldown', seconds: 300, startedNow: true });
    expect(m.snapshot()).toMatchObject({ phase: 'cooldown', secondsLeft: 300 });
    expect(m.submit('123456', NONCE)).toEqual({ status: 'cooldown', seconds: 300, startedNow: false });
    advance(200_000);
    expect(m.start()).toEqual({ status: 'cooldown', seconds: 100 });
    advance(100_000);
    expect(m.snapshot().phase).toBe('idle');
    expect(m.start()).toMatchObject({ status: 'ok', pin: '654321', fresh: true });
  });

  it('counts wrong PINs per window: a new window starts again from zero', () => {
    const { m, advance } = machine();
    m.start();
    for (let i = 1; i <= 4; i++) m.submit('000000', NONCE);
    advance(120_000);
    m.start();
    expect(m.submit('000000', NONCE)).toMatchObject({ status: 'invalid_pin', wrongPins: 1 });
  });

  it('forgets pairing mode and cooldown on a factory reset', () => {
    const { m } = machine();
    m.start();
    for (let i = 1; i <= 5; i++) m.submit('000000', NONCE);
    expect(m.snapshot().phase).toBe('cooldown');
    m.reset();
    expect(m.snapshot().phase).toBe('idle');
    expect(m.start()).toMatchObject({ status: 'ok', fresh: true });
    m.reset();
    expect(m.snapshot().phase).toBe('idle');
  });

  it('makes 6-digit PINs and 16-byte nonces by default', () => {
    const m = new PairingMachine({ clock: () => 0, windowMs: 1000, cooldownMs: 1000 });
    const started = m.start();
    if (started.status !== 'ok') throw new Error('expected ok');
    expect(started.pin).toMatch(/^[0-9]{6}$/);
    expect(started.nonce).toHaveLength(16);
  });
});
