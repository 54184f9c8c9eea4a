import type { PairingMessage, PairingStatus } from '@canopy/remp';
import { MAX_WRONG_PINS, type PairingMachine } from './pairing';

/*
 * REMP type 3 as a dongle answers it, without I/O: a PAIRING_MODE_START or PAIRING_SUBMIT in, the ACK out
 * (echoing the corr_id), what to log, and on success the token to keep.
 */

export interface PairingAnswer {
  ack: Extract<PairingMessage, { action: 'ack' }>;
  /** What happened, for the log (never the PIN or the token). */
  event: string;
  /** A right PIN: the token to store. */
  token?: Uint8Array;
  /** A new pairing window: the PIN to show. */
  newPin?: { pin: string; seconds: number };
}

/** Undefined for a message a dongle does not take (an ACK sent to it). */
export function answerPairing(machine: PairingMachine, message: PairingMessage): PairingAnswer | undefined {
  const ack = (status: PairingStatus, seconds: number, pairingNonce?: Uint8Array): PairingAnswer['ack'] => ({
    action: 'ack',
    corrId: message.corrId,
    status,
    seconds,
    ...(pairingNonce ? { pairingNonce } : {}),
  });
  if (message.action === 'ack') return undefined;
  if (message.action === 'start') {
    const outcome = machine.start();
    if (outcome.status === 'cooldown') {
      return {
        ack: ack('cooldown', outcome.seconds),
        event: `pairing start refused: cooldown (${outcome.seconds} s left)`,
      };
    }
    return {
      ack: ack('ok', outcome.seconds, outcome.nonce),
      event: `pairing mode ${outcome.fresh ? 'started' : 'still on'} (${outcome.seconds} s left)`,
      ...(outcome.fresh ? { newPin: { pin: outcome.pin, seconds: outcome.seconds } } : {}),
    };
  }
  if (message.token.length === 0) return { ack: ack('error', 0), event: 'pairing submit refused: no token' };
  const outcome = machine.submit(message.pin, message.pairingNonce);
  switch (outcome.status) {
    case 'ok':
      return {
        ack: ack('ok', 0),
        event: `PAIRED (${message.token.length}-byte token stored)`,
        token: message.token.slice(),
      };
    case 'invalid_pin':
      return {
        ack: ack('invalid_pin', outcome.seconds),
        event: `wrong PIN (${outcome.wrongPins} of ${MAX_WRONG_PINS}, ${outcome.seconds} s left)`,
      };
    case 'cooldown':
      return {
        ack: ack('cooldown', outcome.seconds),
        event: outcome.startedNow
          ? `${MAX_WRONG_PINS} wrong PINs: COOLDOWN ${outcome.seconds} s`
          : `pairing submit refused: cooldown (${outcome.seconds} s left)`,
      };
    case 'error':
      return { ack: ack('error', 0), event: `pairing submit refused: ${outcome.reason}` };
  }
}
