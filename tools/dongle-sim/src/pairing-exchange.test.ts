import type { PairingMessage } from '@canopy/remp';
import { describe, expect, it } from 'vitest';
import { PairingMachine } from './pairing';
import { answerPairing } from './pairing-exchange';

const NONCE = new Uint8Array(16).fill(3);
const TOKEN = new Uint8Array(32).fill(9);
const corr = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const start = (n: number): PairingMessage => ({ action: 'start', corrId: corr(n), seconds: 0 });
const submit = (n: number, pin: string, token = TOKEN): PairingMessage => ({
  action: 'submit',
  corrId: corr(n),
  seconds: 0,
  pin,
  pairingNonce: NONCE,
  token,
});

function machine() {
  return new PairingMachine({
    clock: () => 0,
    windowMs: 120_000,
    cooldownMs: 300_000,
    newPin: () => '135790',
    newNonce: () => NONCE,
  });
}

describe('answerPairing', () => {
  it('echoes the corr_id on every ACK, the nonce only after a start', () => {
    const m = machine();
    const answers = [start(1), start(2), submit(3, '000000'), submit(4, '135790'), submit(5, '135790')].map(
      (msg) => answerPairing(m, msg),
    );
    expect(answers.map((a) => a?.ack.corrId)).toEqual([corr(1), corr(2), corr(3), corr(4), corr(5)]);
    expect(answers.map((a) => a?.ack.status)).toEqual(['ok', 'ok', 'invalid_pin', 'ok', 'error']);
    expect(answers.map((a) => a?.ack.pairingNonce !== undefined)).toEqual([true, true, false, false, false]);
  });

  it('shows a PIN for a new window only, and hands over the token of the right PIN', () => {
    const m = machine();
    expect(answerPairing(m, start(1))?.newPin).toEqual({ pin: '135790', seconds: 120 });
    expect(answerPairing(m, start(2))?.newPin).toBeUndefined();
    expect(answerPairing(m, submit(3, '135790'))?.token).toEqual(TOKEN);
  });

  it('refuses an empty token without counting a wrong PIN', () => {
    const m = machine();
    answerPairing(m, start(1));
    expect(answerPairing(m, submit(2, '000000', new Uint8Array(0)))?.ack.status).toBe('error');
    expect(m.snapshot().wrongPins).toBe(0);
  });

  it('answers cooldown to the 5th wrong PIN and everything after it', () => {
    const m = machine();
    answerPairing(m, start(1));
    const statuses = [2, 3, 4, 5, 6, 7].map((n) => answerPairing(m, submit(n, '000000'))?.ack.status);
    expect(statuses).toEqual([
      'invalid_pin',
      'invalid_pin',
      'invalid_pin',
      'invalid_pin',
      'cooldown',
      'cooldown',
    ]);
    expect(answerPairing(m, start(8))?.ack).toMatchObject({ status: 'cooldown', seconds: 300 });
  });

  it('takes no ACK', () => {
    expect(
      answerPairing(machine(), { action: 'ack', corrId: corr(1), status: 'ok', seconds: 0 }),
    ).toBeUndefined();
  });
});
