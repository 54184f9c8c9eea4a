import type { StreamEngine } from '../engine';
import { ApiError } from '../http/errors';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** spec 002 §8.3. Counted in the stream engine, so with Redis every cloud instance shares them. */
export const WINDOWS = { login: 10 * MINUTE, signup: HOUR, passwordReset: HOUR } as const;

export function rateLimited(resetInMs: number): ApiError {
  const retryAfterS = Math.max(1, Math.ceil(resetInMs / 1000));
  return new ApiError(
    429,
    'RATE_LIMITED',
    'Too many attempts; try again later',
    { retry_after_s: retryAfterS },
    { 'Retry-After': String(retryAfterS) },
  );
}

/** Throws 429 when any of the counters is already at its limit (without counting this request). */
export async function assertUnder(engine: StreamEngine, keys: string[], max: number): Promise<void> {
  const counts = await Promise.all(keys.map((key) => engine.peek(key)));
  const blocked = counts.filter((c) => c.count >= max);
  if (blocked.length > 0) throw rateLimited(Math.max(...blocked.map((c) => c.resetInMs)));
}

/** Counts this request on every key; throws 429 when any goes over the limit. */
export async function hitAll(
  engine: StreamEngine,
  keys: string[],
  max: number,
  windowMs: number,
): Promise<number[]> {
  const counts = await Promise.all(keys.map((key) => engine.hit(key, windowMs)));
  const over = counts.filter((c) => c.count > max);
  if (over.length > 0) throw rateLimited(Math.max(...over.map((c) => c.resetInMs)));
  return counts.map((c) => c.count);
}
