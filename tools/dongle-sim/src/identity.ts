import { createHash } from 'node:crypto';

/** A dongle's device id: the first 8 bytes of sha256("canopy-dongle-sim:<seed>:<index>"), stable across runs. */
export function deviceIdFor(seed: string, index: number): string {
  return createHash('sha256').update(`canopy-dongle-sim:${seed}:${index}`).digest('hex').slice(0, 16);
}

/** A short, loggable fingerprint of a secret (never the secret itself). */
export function fingerprint(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}
