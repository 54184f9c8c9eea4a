import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';

export const KEYCHAIN_SERVICE = 'canopy-node';
const OPERATION_TIMEOUT_MS = 5000;

/** One secret in the OS keychain. */
export interface KeychainEntry {
  set(secret: string): Promise<void>;
  get(): Promise<string | null>;
  delete(): Promise<boolean>;
}
/** Opens an entry of the canopy-node service; throws when there is no usable keychain. */
export type KeychainFactory = (account: string) => Promise<KeychainEntry>;

/** One keychain account per home, so two homes on one machine (tests, two nodes) do not collide. */
export function keychainAccount(home: string): string {
  return `home-${createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 16)}`;
}

/**
 * @napi-rs/keyring behind a timeout. On Linux the entry is pinned to the Secret Service: the library's
 * fallback, the kernel keyring, forgets everything at reboot, which is worse than the encrypted file.
 */
export const osKeychain: KeychainFactory = async (account) => {
  const { AsyncEntry } = await import('@napi-rs/keyring');
  const entry = new AsyncEntry(KEYCHAIN_SERVICE, account, { linux: { store: 'secret-service' } });
  return {
    set: (secret) => bounded((signal) => entry.setPassword(secret, signal)),
    get: () => bounded((signal) => entry.getPassword(signal)),
    delete: () => bounded((signal) => entry.deleteCredential(signal)),
  };
};

async function bounded<T>(op: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(OPERATION_TIMEOUT_MS);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      op(signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the keychain did not answer within ${OPERATION_TIMEOUT_MS} ms`)),
          OPERATION_TIMEOUT_MS + 100,
        );
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export type ProbeResult = { ok: true } | { ok: false; reason: string };

/**
 * Whether the keychain really stores secrets: a set/get/delete round-trip of a random value. Reading alone
 * proves nothing (without a secret service some backends answer "no such secret" instead of failing).
 */
export async function probeKeychain(factory: KeychainFactory): Promise<ProbeResult> {
  const account = `probe-${randomBytes(6).toString('hex')}`;
  const value = randomBytes(18).toString('base64url');
  let entry: KeychainEntry;
  try {
    entry = await factory(account);
  } catch (err) {
    return { ok: false, reason: reason(err) };
  }
  try {
    await entry.set(value);
    const back = await entry.get();
    if (back !== value) return { ok: false, reason: 'a value written to the keychain did not read back' };
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: reason(err) };
  } finally {
    await entry.delete().catch(() => false);
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
