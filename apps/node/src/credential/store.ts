import fs from 'node:fs';
import os from 'node:os';
import { type CredentialStoreKind, homePaths, readRawConfig, updateConfig } from '../config';
import { machineId } from '../system/machine-id';
import { readEncryptedFile, writeEncryptedFile } from './encrypted-file';
import { CredentialError, KeychainUnreachableError } from './errors';
import { type KeychainFactory, keychainAccount, osKeychain, probeKeychain } from './keychain';

export type StorePreference = 'auto' | CredentialStoreKind;

export interface CredentialOptions {
  /** 'auto' (default): the OS keychain when its probe passes, else the encrypted file. */
  prefer?: StorePreference;
  /** The keychain to use; null means none (tests, or a machine known to have none). */
  keychain?: KeychainFactory | null;
  /** The file key's inputs; default: this machine's id and the OS user name. */
  machineId?: string;
  username?: string;
}

/**
 * Stores the agent token and records in config.json which store holds it, so reads go straight there.
 * A copy in the other store, from an earlier setup, is removed. Returns the store used.
 */
export async function saveToken(
  home: string,
  token: string,
  options: CredentialOptions = {},
): Promise<CredentialStoreKind> {
  const previous = recordedStore(home);
  const kind = await writeToken(home, token, options);
  if (previous && previous !== kind) await eraseFrom(previous, home, options).catch(() => undefined);
  updateConfig(home, { credentialStore: kind });
  return kind;
}

/**
 * Puts the token into a store without touching config.json (the v1 migration writes the config itself).
 */
export async function writeToken(
  home: string,
  token: string,
  options: CredentialOptions = {},
): Promise<CredentialStoreKind> {
  if (!token) throw new CredentialError('refusing to store an empty token');
  const prefer = options.prefer ?? 'auto';
  if (prefer !== 'file') {
    const keychain = options.keychain === undefined ? osKeychain : options.keychain;
    const probe = keychain ? await probeKeychain(keychain) : { ok: false as const, reason: 'no keychain' };
    if (probe.ok && keychain) {
      await (await keychain(keychainAccount(home))).set(token);
      return 'keychain';
    }
    if (prefer === 'keychain') {
      throw new CredentialError(`the OS keychain is not available (${probe.ok ? 'unknown' : probe.reason})`);
    }
  }
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  await writeEncryptedFile(homePaths(home).credential, token, keySource(home, options));
  return 'file';
}

/**
 * The agent token, or null when this home was never set up. A keychain that does not answer is a
 * KeychainUnreachableError (it may pass); any other CredentialError will not pass by itself.
 */
export async function loadToken(home: string, options: CredentialOptions = {}): Promise<string | null> {
  const kind = recordedStore(home) ?? (fs.existsSync(homePaths(home).credential) ? 'file' : null);
  if (kind === 'file') return readEncryptedFile(homePaths(home).credential, keySource(home, options));
  if (kind === 'keychain') {
    const keychain = options.keychain === undefined ? osKeychain : options.keychain;
    if (!keychain) {
      throw new CredentialError(
        'the agent token is kept in the OS keychain, which cannot be reached: this process was given no keychain',
      );
    }
    try {
      return await (await keychain(keychainAccount(home))).get();
    } catch (err) {
      throw new KeychainUnreachableError(err instanceof Error ? err.message : String(err), { cause: err });
    }
  }
  return null;
}

/** Removes the token from every store and forgets which one held it. */
export async function deleteToken(home: string, options: CredentialOptions = {}): Promise<void> {
  const kind = recordedStore(home);
  await eraseFrom('file', home, options);
  if (kind === 'keychain' || options.keychain)
    await eraseFrom('keychain', home, options).catch(() => undefined);
  if (kind) updateConfig(home, { credentialStore: null });
}

/** Where the token is kept, in words for `status` and `setup`. */
export function describeStore(home: string): string {
  const kind = recordedStore(home);
  if (kind === 'keychain') return 'the OS keychain';
  if (kind === 'file' || fs.existsSync(homePaths(home).credential))
    return `an encrypted file (${homePaths(home).credential})`;
  return 'nowhere yet (not set up)';
}

function recordedStore(home: string): CredentialStoreKind | null {
  let raw: Record<string, unknown> | null = null;
  try {
    raw = readRawConfig(home);
  } catch {
    return null;
  }
  const kind = raw?.credentialStore;
  return kind === 'keychain' || kind === 'file' ? kind : null;
}

async function eraseFrom(kind: CredentialStoreKind, home: string, options: CredentialOptions): Promise<void> {
  if (kind === 'file') {
    fs.rmSync(homePaths(home).credential, { force: true });
    return;
  }
  const keychain = options.keychain === undefined ? osKeychain : options.keychain;
  if (keychain) await (await keychain(keychainAccount(home))).delete();
}

function keySource(home: string, options: CredentialOptions) {
  return { machineId: options.machineId ?? machineId(home), username: options.username ?? osUser() };
}

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    // No passwd entry (some containers): the uid still tells users apart.
    return `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}
