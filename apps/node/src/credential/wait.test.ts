import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialError, KeychainUnreachableError } from './errors';
import { type KeychainFactory, keychainAccount } from './keychain';
import { type CredentialOptions, loadToken, saveToken } from './store';
import { KEYCHAIN_RETRY, keychainRetryDelay, waitForKeychain } from './wait';

const temps: string[] = [];
const tempHome = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-wait-'));
  temps.push(dir);
  return path.join(dir, 'home');
};
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const TOKEN = 'cnt_0123456789abcdefghijklmnopqrstuv';
const base: CredentialOptions = { machineId: 'machine-one', username: 'alice' };
const FAST = { firstMs: 20, maxMs: 80 };

/**
 * A keychain that holds its secrets in memory and can be switched off: while `reachable` is false, opening
 * an entry throws the way @napi-rs/keyring does when the keyring is locked and nobody can unlock it.
 */
function switchableKeychain() {
  const secrets = new Map<string, string>();
  const state = { reachable: true, opened: 0 };
  const factory: KeychainFactory = async (account) => {
    state.opened++;
    if (!state.reachable) {
      throw new Error("Couldn't access platform storage: Secret Service: unlock prompt was dismissed");
    }
    return {
      set: async (secret) => {
        secrets.set(account, secret);
      },
      get: async () => secrets.get(account) ?? null,
      delete: async () => secrets.delete(account),
    };
  };
  return { factory, secrets, state };
}

/** A home whose token is in the keychain, which is then locked, as after a reboot. */
async function lockedHome() {
  const home = tempHome();
  const keychain = switchableKeychain();
  expect(await saveToken(home, TOKEN, { ...base, keychain: keychain.factory })).toBe('keychain');
  keychain.state.reachable = false;
  keychain.state.opened = 0;
  return { home, keychain, options: { ...base, keychain: keychain.factory } };
}

describe('keychainRetryDelay', () => {
  it('doubles from 2 s and stays at 60 s', () => {
    const delays = Array.from({ length: 9 }, (_, attempt) => keychainRetryDelay(attempt));
    expect(delays).toEqual([2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
    expect(keychainRetryDelay(10_000)).toBe(KEYCHAIN_RETRY.maxMs);
    expect(keychainRetryDelay(-1)).toBe(KEYCHAIN_RETRY.firstMs);
  });
});

describe('loadToken with an unreachable keychain', () => {
  it('throws KeychainUnreachableError with what the keychain said and both ways out', async () => {
    const { home, options } = await lockedHome();
    const failed = await loadToken(home, options).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(KeychainUnreachableError);
    expect(failed).toBeInstanceOf(CredentialError);
    const err = failed as KeychainUnreachableError;
    expect(err.detail).toBe("Couldn't access platform storage: Secret Service: unlock prompt was dismissed");
    expect(err.message).toContain('log in to this machine or unlock the keychain');
    expect(err.message).toContain('CANOPY_NODE_CREDENTIAL_STORE=file canopy-node setup <KEY>');
    expect(err.message).not.toContain(TOKEN);
  });
});

describe('waitForKeychain', () => {
  it('tries again with growing pauses while the keychain throws, and returns the token once it answers', async () => {
    const { home, keychain, options } = await lockedHome();
    const retries: number[] = [];
    const startedAt = Date.now();
    const waiting = waitForKeychain(home, options, {
      delays: FAST,
      onRetry: (err, nextInMs) => {
        expect(err).toBeInstanceOf(KeychainUnreachableError);
        retries.push(nextInMs);
        if (retries.length === 3) keychain.state.reachable = true; // the user logs in
      },
    });
    expect(await waiting).toBe(TOKEN);
    // Tries after 20, 40, 80 ms failed; the fourth, 80 ms later, found the keychain unlocked.
    expect(retries).toEqual([40, 80, 80]);
    expect(keychain.state.opened).toBe(4);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(20 + 40 + 80 + 80 - 5);
  });

  it('stops at once when aborted during a pause', async () => {
    const { home, options } = await lockedHome();
    const stop = new AbortController();
    const startedAt = Date.now();
    const waiting = waitForKeychain(home, options, { signal: stop.signal, delays: KEYCHAIN_RETRY });
    setTimeout(() => stop.abort(), 50);
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - startedAt).toBeLessThan(1000);
  });

  it('stops at once when aborted while a keychain call hangs', async () => {
    const home = tempHome();
    const keychain = switchableKeychain();
    await saveToken(home, TOKEN, { ...base, keychain: keychain.factory });
    let calls = 0;
    const hanging: KeychainFactory = async () => {
      calls++;
      return new Promise(() => undefined); // a secret service that never answers
    };
    const stop = new AbortController();
    const waiting = waitForKeychain(
      home,
      { ...base, keychain: hanging },
      { signal: stop.signal, delays: FAST },
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toBe(1);
    const abortedAt = Date.now();
    stop.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - abortedAt).toBeLessThan(100);
  });

  it('returns null when the keychain answers but no longer holds the token', async () => {
    const { home, keychain, options } = await lockedHome();
    keychain.secrets.delete(keychainAccount(home));
    keychain.state.reachable = true;
    expect(await waitForKeychain(home, options, { delays: FAST })).toBeNull();
  });

  it('gives up at once on an error that does not pass by itself', async () => {
    const home = tempHome();
    await saveToken(home, TOKEN, { ...base, keychain: null });
    const retries: number[] = [];
    const waiting = waitForKeychain(
      home,
      { ...base, keychain: null, machineId: 'machine-two' },
      { delays: FAST, onRetry: (_, next) => retries.push(next) },
    );
    await expect(waiting).rejects.toThrow(/cannot be decrypted on this machine/);
    expect(retries).toEqual([]);
  });
});
