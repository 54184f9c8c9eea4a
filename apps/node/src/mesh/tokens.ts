import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Spec 001 phase 2/4: 30-day peer tokens, silently extended on use when fewer than 7 days are left. */
export const TOKEN_TTL_MS = 30 * 24 * 3600_000;
export const RENEW_BELOW_MS = 7 * 24 * 3600_000;
/** 32 random bytes, base64url, behind a prefix that says what the string is if it ever turns up somewhere. */
export const TOKEN_PREFIX = 'cmt_';
export const TOKEN_LENGTH = TOKEN_PREFIX.length + 43;

export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** What issued_tokens keeps: the token itself is never stored. SHA-256 suffices for 256-bit random tokens. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time comparison of two secrets (or their hashes). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The part of an issued_tokens row the rules look at. */
export interface IssuedTokenState {
  expiresAt: number;
  revokedAt: number | null;
}

export type TokenVerdict =
  | { ok: true; renewTo: number | null }
  | { ok: false; code: 'MESH_TOKEN_UNKNOWN' | 'MESH_TOKEN_EXPIRED' | 'MESH_TOKEN_REVOKED' };

export const isExpired = (t: IssuedTokenState, now: number) => now >= t.expiresAt;
export const needsRenewal = (t: IssuedTokenState, now: number) =>
  !isExpired(t, now) && t.expiresAt - now < RENEW_BELOW_MS;
export const renewedExpiry = (now: number) => now + TOKEN_TTL_MS;

/** The auth middleware's decision for a presented token (null: no row has its hash). */
export function judgeToken(t: IssuedTokenState | null, now: number): TokenVerdict {
  if (!t) return { ok: false, code: 'MESH_TOKEN_UNKNOWN' };
  if (t.revokedAt !== null) return { ok: false, code: 'MESH_TOKEN_REVOKED' };
  if (isExpired(t, now)) return { ok: false, code: 'MESH_TOKEN_EXPIRED' };
  return { ok: true, renewTo: needsRenewal(t, now) ? renewedExpiry(now) : null };
}

/** The token of an `Authorization: Bearer …` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}
