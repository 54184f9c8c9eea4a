import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { NONCE_LENGTH } from '@canopy/remp';
import { type Clock, secondsUntil } from './clock';

/*
 * A dongle's pairing state machine (spec 002 §11.2, §11.4), without I/O: pairing mode lasts a window, shows a
 * 6-digit PIN and carries a 16-byte nonce; the 5th wrong PIN of a window ends it and starts a cooldown.
 * Storing the token is the dongle's business; this only says whether the PIN was right.
 */

export const MAX_WRONG_PINS = 5;

export type PairingPhase = 'idle' | 'pairing' | 'cooldown';

export interface PairingSnapshot {
  phase: PairingPhase;
  /** Seconds left in the pairing window or the cooldown (0 when idle). */
  secondsLeft: number;
  /** While in pairing mode: the PIN on the "display" and the nonce of the ANNOUNCE. */
  pin?: string;
  nonce?: Uint8Array;
  /** Wrong PINs in the current window. */
  wrongPins: number;
}

export type StartOutcome =
  /** `fresh` is false when pairing mode was already on: the same PIN and nonce, the window not extended. */
  | { status: 'ok'; seconds: number; pin: string; nonce: Uint8Array; fresh: boolean }
  | { status: 'cooldown'; seconds: number };

export type SubmitOutcome =
  | { status: 'ok' }
  | { status: 'invalid_pin'; seconds: number; wrongPins: number }
  /** `startedNow`: this submit was the 5th wrong PIN. */
  | { status: 'cooldown'; seconds: number; startedNow: boolean }
  | { status: 'error'; reason: 'not in pairing mode' | 'nonce mismatch' };

export interface PairingOptions {
  clock: Clock;
  windowMs: number;
  cooldownMs: number;
  newPin?: () => string;
  newNonce?: () => Uint8Array;
}

const randomPin = () => String(randomInt(0, 1_000_000)).padStart(6, '0');
const randomNonce = () => new Uint8Array(randomBytes(NONCE_LENGTH));

export class PairingMachine {
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #cooldownMs: number;
  readonly #newPin: () => string;
  readonly #newNonce: () => Uint8Array;
  #window: { pin: string; nonce: Uint8Array; endsAt: number; wrongPins: number } | undefined;
  #cooldownEndsAt: number | undefined;

  constructor(options: PairingOptions) {
    this.#clock = options.clock;
    this.#windowMs = options.windowMs;
    this.#cooldownMs = options.cooldownMs;
    this.#newPin = options.newPin ?? randomPin;
    this.#newNonce = options.newNonce ?? randomNonce;
  }

  snapshot(): PairingSnapshot {
    const now = this.#settle();
    if (this.#cooldownEndsAt !== undefined) {
      return { phase: 'cooldown', secondsLeft: secondsUntil(this.#cooldownEndsAt, now), wrongPins: 0 };
    }
    if (this.#window !== undefined) {
      const { pin, nonce, endsAt, wrongPins } = this.#window;
      return { phase: 'pairing', secondsLeft: secondsUntil(endsAt, now), pin, nonce, wrongPins };
    }
    return { phase: 'idle', secondsLeft: 0, wrongPins: 0 };
  }

  /** PAIRING_MODE_START, or the button: a new window with a fresh PIN and nonce (unless one is open). */
  start(): StartOutcome {
    const now = this.#settle();
    if (this.#cooldownEndsAt !== undefined) {
      return { status: 'cooldown', seconds: secondsUntil(this.#cooldownEndsAt, now) };
    }
    const fresh = this.#window === undefined;
    if (this.#window === undefined) {
      this.#window = {
        pin: this.#newPin(),
        nonce: this.#newNonce(),
        endsAt: now + this.#windowMs,
        wrongPins: 0,
      };
    }
    const { pin, nonce, endsAt } = this.#window;
    return { status: 'ok', seconds: secondsUntil(endsAt, now), pin, nonce, fresh };
  }

  /** PAIRING_SUBMIT: the PIN the user typed and the nonce the agent read from the ANNOUNCE. */
  submit(pin: string, nonce: Uint8Array): SubmitOutcome {
    const now = this.#settle();
    if (this.#cooldownEndsAt !== undefined) {
      return { status: 'cooldown', seconds: secondsUntil(this.#cooldownEndsAt, now), startedNow: false };
    }
    const window = this.#window;
    if (window === undefined) return { status: 'error', reason: 'not in pairing mode' };
    if (!sameBytes(nonce, window.nonce)) return { status: 'error', reason: 'nonce mismatch' };
    if (sameBytes(Buffer.from(pin), Buffer.from(window.pin))) {
      this.#window = undefined;
      return { status: 'ok' };
    }
    window.wrongPins++;
    if (window.wrongPins >= MAX_WRONG_PINS) {
      this.#window = undefined;
      this.#cooldownEndsAt = now + this.#cooldownMs;
      return { status: 'cooldown', seconds: secondsUntil(this.#cooldownEndsAt, now), startedNow: true };
    }
    return { status: 'invalid_pin', seconds: secondsUntil(window.endsAt, now), wrongPins: window.wrongPins };
  }

  /** Factory reset: no pairing mode, no cooldown. */
  reset(): void {
    this.#window = undefined;
    this.#cooldownEndsAt = undefined;
  }

  /** Ends an expired window or cooldown; returns now. */
  #settle(): number {
    const now = this.#clock();
    if (this.#window !== undefined && now >= this.#window.endsAt) this.#window = undefined;
    if (this.#cooldownEndsAt !== undefined && now >= this.#cooldownEndsAt) this.#cooldownEndsAt = undefined;
    return now;
  }
}

/** Constant-time equality of two byte strings (a length mismatch is not secret). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
