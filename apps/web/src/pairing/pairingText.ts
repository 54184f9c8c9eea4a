import type { Dongle } from '@canopy/protocol';
import { isApiError } from '../api/errors';
import { codeSentence } from '../api/messages';

/** How long a dongle stays in pairing mode (spec 002 §11.2). */
export const PAIRING_TTL_MS = 120_000;
/** A pairing window the cloud reports beyond this is taken for a clock that is off, not a real window. */
const LONGEST_WINDOW_MS = 600_000;

/** "1:54": what is left, rounded up to the second, so it reads 2:00 at first and 0:00 only at the end. */
export function formatCountdown(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/**
 * When pairing mode ends, on this computer's clock. The cloud's `expires_at` is on the server's clock; when
 * the two disagree so much that it looks past or implausibly far, count the usual 120 s from the answer.
 */
export function pairingDeadline(expiresAt: string, receivedAtMs: number): number {
  const left = Date.parse(expiresAt) - receivedAtMs;
  if (!Number.isFinite(left) || left <= 0 || left > LONGEST_WINDOW_MS) return receivedAtMs + PAIRING_TTL_MS;
  return receivedAtMs + left;
}

type Ownership = Pick<Dongle, 'owned' | 'ownership_state'>;

/** Whether the page offers pairing: a dongle that isn't the user's, or the user's that forgot its token. */
export function offersPairing(dongle: Ownership): boolean {
  if (dongle.ownership_state === 'SECURITY_HOLD') return false;
  return !dongle.owned || dongle.ownership_state === 'RESET_DETECTED';
}

/** Why pairing can't start now, in words for beside the disabled button; null when it can. */
export function pairingBlocker(dongle: Ownership & Pick<Dongle, 'online'>): string | null {
  if (dongle.ownership_state === 'SECURITY_HOLD') return codeSentence('PAIRING_SECURITY_HOLD');
  if (!dongle.owned && dongle.ownership_state !== 'UNCLAIMED') return codeSentence('DONGLE_OWNED_BY_OTHER');
  if (!dongle.online) return codeSentence('AGENT_OFFLINE');
  return null;
}

/**
 * What a failed start or PIN leaves the user to do: try the PIN again in the same pairing mode, start
 * pairing mode again, or nothing (the dongle is on hold or someone else's).
 */
export type AfterFailure = 'retry' | 'restart' | 'final';

export function afterPairingFailure(error: unknown): AfterFailure {
  if (isApiError(error, 'PAIRING_SECURITY_HOLD') || isApiError(error, 'DONGLE_OWNED_BY_OTHER'))
    return 'final';
  if (
    isApiError(error, 'PAIRING_SESSION_INVALID') ||
    isApiError(error, 'PAIRING_REFUSED') ||
    isApiError(error, 'PAIRING_COOLDOWN')
  ) {
    return 'restart';
  }
  return 'retry';
}

/** The digits of what was typed or pasted ("123 456", "PIN: 123-456"), at most 6. */
export function pinDigits(typed: string): string {
  return typed.replace(/\D/g, '').slice(0, 6);
}
