import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readRawConfig } from '../config';
import { PBKDF2_ITERATIONS } from './encrypted-file';
import { CredentialError } from './errors';
import { type KeychainFactory, keychainAccount, probeKeychain } from './keychain';
import { type CredentialOptions, deleteToken, describeStore, loadToken, saveToken } from './store';

const temps: string[] = [];
const tempHome = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-cred-'));
  temps.push(dir);
  return path.join(dir, 'home');
};
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const TOKEN = 'cnt_0123456789abcdefghijklmnopqrstuv';
const fileOnly: CredentialOptions = { keychain: null, machineId: 'machine-one', username: 'alice' };

/** A keychain held in memory; `broken` makes it behave like a missing secret service that reads null. */
function memoryKeychain(broken = false): KeychainFactory & { secrets: Map<string, string> } {
  const secrets = new Map<string, string>();
  const factory = async (account: string) => ({
    set: async (secret: string) => {
      if (!broken) secrets.set(account, secret);
    },
    get: async () => secrets.get(account) ?? null,
    delete: async () => secrets.delete(account),
  });
  return Object.assign(factory, { secrets });
}

describe('encrypted file store', () => {
  it('round-trips the token through an AES-256-GCM file with mode 0600', async () => {
    const home = tempHome();
    expect(await saveToken(home, TOKEN, fileOnly)).toBe('file');
    const file = path.join(home, 'credential.enc');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const body = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(Object.keys(body).sort()).toEqual(['ciphertext', 'iv', 'salt', 'tag', 'v']);
    expect(body.v).toBe(1);
    expect(Buffer.from(body.salt, 'base64')).toHaveLength(16);
    expect(fs.readFileSync(file, 'utf8')).not.toContain(TOKEN);
    expect(readRawConfig(home)?.credentialStore).toBe('file');
    expect(await loadToken(home, fileOnly)).toBe(TOKEN);
    expect(PBKDF2_ITERATIONS).toBeGreaterThanOrEqual(210_000);
  });

  it('cannot be decrypted with another machine id or user, and says what to do', async () => {
    const home = tempHome();
    await saveToken(home, TOKEN, fileOnly);
    const elsewhere = loadToken(home, { ...fileOnly, machineId: 'machine-two' });
    await expect(elsewhere).rejects.toBeInstanceOf(CredentialError);
    await expect(elsewhere).rejects.toThrow(
      'credential cannot be decrypted on this machine: run canopy-node setup again',
    );
    await expect(loadToken(home, { ...fileOnly, username: 'mallory' })).rejects.toThrow(
      /cannot be decrypted/,
    );
  });

  it('reports a damaged file', async () => {
    const home = tempHome();
    await saveToken(home, TOKEN, fileOnly);
    fs.writeFileSync(path.join(home, 'credential.enc'), '{"v":1,"salt":"x"}');
    await expect(loadToken(home, fileOnly)).rejects.toThrow(/damaged: run canopy-node setup again/);
  });

  it('returns null when never set up, and forgets the token on delete', async () => {
    const home = tempHome();
    expect(await loadToken(home, fileOnly)).toBeNull();
    expect(describeStore(home)).toMatch(/not set up/);
    await saveToken(home, TOKEN, fileOnly);
    expect(describeStore(home)).toContain('credential.enc');
    await deleteToken(home, fileOnly);
    expect(fs.existsSync(path.join(home, 'credential.enc'))).toBe(false);
    expect(await loadToken(home, fileOnly)).toBeNull();
    expect(readRawConfig(home)?.credentialStore).toBeNull();
  });
});

describe('keychain selection', () => {
  it('uses the keychain when its round-trip probe passes, and records it', async () => {
    const home = tempHome();
    const keychain = memoryKeychain();
    const options = { ...fileOnly, keychain };
    expect(await saveToken(home, TOKEN, options)).toBe('keychain');
    expect(keychain.secrets.get(keychainAccount(home))).toBe(TOKEN);
    expect(keychain.secrets.size).toBe(1); // the probe cleaned up after itself
    expect(fs.existsSync(path.join(home, 'credential.enc'))).toBe(false);
    expect(readRawConfig(home)?.credentialStore).toBe('keychain');
    expect(await loadToken(home, options)).toBe(TOKEN);
    expect(describeStore(home)).toBe('the OS keychain');
  });

  it('falls back to the file when the keychain accepts writes but reads back nothing', async () => {
    expect(await probeKeychain(memoryKeychain(true))).toEqual({
      ok: false,
      reason: 'a value written to the keychain did not read back',
    });
    const home = tempHome();
    expect(await saveToken(home, TOKEN, { ...fileOnly, keychain: memoryKeychain(true) })).toBe('file');
    expect(await loadToken(home, fileOnly)).toBe(TOKEN);
  });

  it('falls back to the file when the keychain throws, unless the keychain was required', async () => {
    const throwing: KeychainFactory = async () => {
      throw new Error('no secret service');
    };
    const home = tempHome();
    expect(await saveToken(home, TOKEN, { ...fileOnly, keychain: throwing })).toBe('file');
    await expect(
      saveToken(tempHome(), TOKEN, { ...fileOnly, keychain: throwing, prefer: 'keychain' }),
    ).rejects.toThrow('the OS keychain is not available (no secret service)');
  });

  it('moves the token out of the old store when the store changes', async () => {
    const home = tempHome();
    const keychain = memoryKeychain();
    await saveToken(home, TOKEN, { ...fileOnly, keychain });
    await saveToken(home, 'cnt_second', { ...fileOnly, keychain, prefer: 'file' });
    expect(keychain.secrets.size).toBe(0);
    expect(await loadToken(home, fileOnly)).toBe('cnt_second');
  });

  it('says the keychain is unreachable instead of pretending the node is not set up', async () => {
    const home = tempHome();
    await saveToken(home, TOKEN, { ...fileOnly, keychain: memoryKeychain() });
    await expect(loadToken(home, fileOnly)).rejects.toThrow(
      /kept in the OS keychain, which cannot be reached/,
    );
  });
});
