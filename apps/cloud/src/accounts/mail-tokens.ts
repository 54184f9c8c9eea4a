import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from '../db/client';
import { emailVerificationTokens, passwordResetTokens } from '../db/schema';
import { ApiError } from '../http/errors';
import { hashSecret, newSecret } from './secrets';

/** The one-time tokens of mail links: stored hashed, with an expiry, spent once. */
const tables = { verify_email: emailVerificationTokens, password_reset: passwordResetTokens } as const;
export type MailTokenKind = keyof typeof tables;

export const MAIL_TOKEN_TTL_MS: Record<MailTokenKind, number> = {
  verify_email: 24 * 3600_000,
  password_reset: 3600_000,
};

/** Stores a new token's hash and returns the token itself, for the mail link only. */
export async function issueMailToken(
  db: Db,
  kind: MailTokenKind,
  userId: string,
  now: Date,
): Promise<string> {
  const token = newSecret();
  await db.insert(tables[kind]).values({
    userId,
    tokenHash: hashSecret(token),
    expiresAt: new Date(now.getTime() + MAIL_TOKEN_TTL_MS[kind]),
  });
  return token;
}

/** Spends a token in one atomic update; returns its user, or throws AUTH_TOKEN_INVALID. */
export async function spendMailToken(db: Db, kind: MailTokenKind, token: string, now: Date): Promise<string> {
  const table = tables[kind] as typeof emailVerificationTokens;
  const [used] = await db
    .update(table)
    .set({ usedAt: now })
    .where(and(eq(table.tokenHash, hashSecret(token)), isNull(table.usedAt), gt(table.expiresAt, now)))
    .returning({ userId: table.userId });
  if (!used) throw invalidMailToken();
  return used.userId;
}

/** Spends every open token of a user (after a password reset, the other reset links die). */
export async function spendAllMailTokens(
  db: Db,
  kind: MailTokenKind,
  userId: string,
  now: Date,
): Promise<void> {
  const table = tables[kind] as typeof emailVerificationTokens;
  await db
    .update(table)
    .set({ usedAt: now })
    .where(and(eq(table.userId, userId), isNull(table.usedAt)));
}

export function invalidMailToken(): ApiError {
  return new ApiError(400, 'AUTH_TOKEN_INVALID', 'This link is invalid, has expired or was already used');
}
