import { and, eq, inArray, lt, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { emailOutbox } from '../db/schema';
import type { TemplateName } from './templates';

export const MAX_ATTEMPTS = 5;
const STALE_CLAIM_MS = 5 * 60_000;

/** Queues a mail; call it inside the transaction of the change that causes the mail. */
export async function enqueueMail(
  db: Db,
  mail: { to: string; template: TemplateName; payload: Record<string, unknown> },
): Promise<void> {
  await db.insert(emailOutbox).values({ toEmail: mail.to, template: mail.template, payload: mail.payload });
}

export type ClaimedMail = typeof emailOutbox.$inferSelect;

/**
 * Claims due mails for this worker. Rows are locked with SKIP LOCKED so several cloud instances can run
 * workers side by side; a claim left by a crashed worker becomes due again after five minutes.
 */
export async function claimDueMails(db: Db, now: Date, limit = 10): Promise<ClaimedMail[]> {
  const staleBefore = new Date(now.getTime() - STALE_CLAIM_MS);
  const due = db
    .select({ id: emailOutbox.id })
    .from(emailOutbox)
    .where(
      or(
        and(eq(emailOutbox.status, 'queued'), lte(emailOutbox.nextAttemptAt, now)),
        and(eq(emailOutbox.status, 'sending'), lt(emailOutbox.updatedAt, staleBefore)),
      ),
    )
    .orderBy(emailOutbox.createdAt)
    .limit(limit)
    .for('update', { skipLocked: true });
  return db
    .update(emailOutbox)
    .set({ status: 'sending', updatedAt: now })
    .where(inArray(emailOutbox.id, due))
    .returning();
}

export async function markSent(db: Db, mail: ClaimedMail, redacted: Record<string, unknown>, now: Date) {
  await db
    .update(emailOutbox)
    .set({
      status: 'sent',
      payload: redacted,
      attempts: sql`${emailOutbox.attempts} + 1`,
      lastError: null,
      updatedAt: now,
    })
    .where(eq(emailOutbox.id, mail.id));
}

/** A failed attempt is retried with backoff (1, 2, 4, 8 min) until MAX_ATTEMPTS, then the mail is `failed`. */
export async function markFailed(db: Db, mail: ClaimedMail, error: string, now: Date) {
  const attempts = mail.attempts + 1;
  const giveUp = attempts >= MAX_ATTEMPTS;
  await db
    .update(emailOutbox)
    .set({
      status: giveUp ? 'failed' : 'queued',
      attempts,
      lastError: error.slice(0, 1000),
      nextAttemptAt: new Date(now.getTime() + 60_000 * 2 ** (attempts - 1)),
      updatedAt: now,
    })
    .where(eq(emailOutbox.id, mail.id));
  return giveUp;
}
