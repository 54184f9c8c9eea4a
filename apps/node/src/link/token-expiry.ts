/*
 * When to refresh the session token (spec 000 §6): 5 minutes before it expires, or — for tokens too short
 * for that margin — once 80 % of its lifetime has passed; never sooner than 1 s.
 */

export const REFRESH_MARGIN_MS = 5 * 60_000;
export const MIN_REFRESH_DELAY_MS = 1000;

/** Delay from receipt of a token valid for `lifetimeMs` until its refresh. */
export function refreshDelayMs(lifetimeMs: number): number {
  const margin = Math.min(REFRESH_MARGIN_MS, Math.max(0, lifetimeMs) * 0.2);
  return Math.max(MIN_REFRESH_DELAY_MS, Math.round(lifetimeMs - margin));
}

/**
 * The local time at which a token expires. `serverOffsetMs` (server clock − local clock, measured at the last
 * welcome) keeps a skewed local clock from refreshing too late or far too early.
 */
export function localExpiry(expiresAtIso: string, serverOffsetMs: number, now: number): number {
  const at = Date.parse(expiresAtIso);
  // An unreadable expiry is treated as a short one, so the token is replaced soon rather than never.
  if (Number.isNaN(at)) return now + 10 * 60_000;
  return at - serverOffsetMs;
}

/** Server clock − local clock, from the server time of a welcome; 0 when unreadable. */
export function serverOffset(serverTimeIso: string, now: number): number {
  const at = Date.parse(serverTimeIso);
  return Number.isNaN(at) ? 0 : at - now;
}
