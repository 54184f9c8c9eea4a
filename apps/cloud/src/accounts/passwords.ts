import { type Algorithm, hash, verify } from '@node-rs/argon2';

// Algorithm is a const enum that isolated modules cannot read: Argon2id is 2.
const ARGON2ID = 2 as Algorithm;

/**
 * Argon2id with OWASP's first recommended profile: 19 MiB of memory, 2 passes, 1 lane.
 * Changing these only affects new hashes: each hash records its own parameters.
 */
export const ARGON2_PARAMS = {
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies a password; with no stored hash (unknown email) it verifies against a dummy so that the answer
 * takes as long as for a real account and does not reveal which emails exist.
 */
export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  if (!storedHash) {
    dummyHash ??= hashPassword('canopy-dummy-password-for-timing');
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  return verify(storedHash, password).catch(() => false);
}
