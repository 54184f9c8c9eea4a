import { randomInt } from 'node:crypto';

/** Spec 001 phase 5 + the issue: a code lives 120 s and dies after the fifth wrong PIN. */
export const PAIRING_TTL_MS = 120_000;
export const MAX_PIN_ATTEMPTS = 5;
/** Crockford's base32 without I, L, O, U: a code read aloud or typed is hard to get wrong. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CODE_LENGTH = 8;

/** A one-time pairing code, e.g. `7KQ2-M9XD` once formatted (40 bits). */
export function generatePairingCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

export function generatePin(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** What a person typed: case, spaces and dashes do not matter; O/I/L read as 0/1/1. */
export function normalizeCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

export const formatCode = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;

/** Only the digits of a PIN count (typed with a space, as read off a screen). */
export const normalizePin = (input: string) => input.replace(/\D/g, '');

export interface PairingState {
  expiresAt: number;
  attempts: number;
  usedAt: number | null;
}

export type PinVerdict =
  | { ok: true }
  | { ok: false; code: 'MESH_PAIRING_CODE_INVALID' }
  | { ok: false; code: 'MESH_PAIRING_CODE_DEAD'; attempts: number }
  | { ok: false; code: 'MESH_PAIRING_PIN_INVALID'; attempts: number; triesLeft: number };

/**
 * One PIN attempt against a pairing session (null: no session has that code). `attempts` is what the
 * session's counter must become; a code that is expired, used or dead never accepts a PIN, right or wrong.
 */
export function judgePin(session: PairingState | null, pinMatches: boolean, now: number): PinVerdict {
  if (!session || session.usedAt !== null || now >= session.expiresAt) {
    return { ok: false, code: 'MESH_PAIRING_CODE_INVALID' };
  }
  if (session.attempts >= MAX_PIN_ATTEMPTS) {
    return { ok: false, code: 'MESH_PAIRING_CODE_DEAD', attempts: session.attempts };
  }
  if (pinMatches) return { ok: true };
  const attempts = session.attempts + 1;
  if (attempts >= MAX_PIN_ATTEMPTS) return { ok: false, code: 'MESH_PAIRING_CODE_DEAD', attempts };
  return { ok: false, code: 'MESH_PAIRING_PIN_INVALID', attempts, triesLeft: MAX_PIN_ATTEMPTS - attempts };
}

/**
 * Failed pairing attempts per source address (unknown codes and wrong PINs alike), so one machine cannot walk
 * the code space. Pure: the caller passes the time.
 */
export class SourceLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly max = 20,
    private readonly windowMs = 10 * 60_000,
  ) {}

  blocked(source: string, now: number): boolean {
    return this.recent(source, now).length >= this.max;
  }

  fail(source: string, now: number): void {
    const list = this.recent(source, now);
    list.push(now);
    this.failures.set(source, list);
  }

  private recent(source: string, now: number): number[] {
    const list = (this.failures.get(source) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length === 0) this.failures.delete(source);
    else this.failures.set(source, list);
    return list;
  }
}
