import { setTimeout as sleep } from 'node:timers/promises';
import { KeychainUnreachableError } from './errors';
import { type CredentialOptions, loadToken } from './store';

export interface RetryDelays {
  firstMs: number;
  maxMs: number;
}

/** 2 s, 4 s, 8 s … then once a minute: soon after a login, and next to nothing while nobody logs in. */
export const KEYCHAIN_RETRY: RetryDelays = { firstMs: 2000, maxMs: 60_000 };

/** The pause before retry number `attempt` (0 first): doubling from firstMs, at most maxMs. */
export function keychainRetryDelay(attempt: number, delays: RetryDelays = KEYCHAIN_RETRY): number {
  return Math.min(delays.maxMs, delays.firstMs * 2 ** Math.min(Math.max(0, attempt), 30));
}

export interface KeychainWait {
  /** Ends the wait at once, during a pause or a keychain call: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  delays?: RetryDelays;
  /** After each retry that found the keychain still unreachable, with the pause before the next one. */
  onRetry?: (err: KeychainUnreachableError, nextInMs: number) => void;
}

/**
 * Reads the token again, after growing pauses, for as long as loadToken finds the OS keychain unreachable
 * (call it after loadToken threw KeychainUnreachableError). Resolves with what loadToken then returns (null:
 * the keychain answers but holds no token); rejects at once with any other error, since those do not pass
 * by themselves.
 */
export async function waitForKeychain(
  home: string,
  credential: CredentialOptions | undefined,
  wait: KeychainWait = {},
): Promise<string | null> {
  for (let attempt = 0; ; attempt++) {
    await sleep(keychainRetryDelay(attempt, wait.delays), undefined, { signal: wait.signal });
    try {
      return await untilAborted(loadToken(home, credential), wait.signal);
    } catch (err) {
      if (!(err instanceof KeychainUnreachableError)) throw err;
      wait.onRetry?.(err, keychainRetryDelay(attempt + 1, wait.delays));
    }
  }
}

/** A keychain call takes up to its own timeout (5 s); a stop must not wait for it. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
