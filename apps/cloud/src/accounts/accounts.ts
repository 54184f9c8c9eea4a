import type { User } from '@canopy/protocol';
import { and, eq, isNull } from 'drizzle-orm';
import { type AuditActor, writeAudit } from '../audit/writer';
import type { Db } from '../db/client';
import { users } from '../db/schema';
import type { StreamEngine } from '../engine';
import { ApiError } from '../http/errors';
import { enqueueMail } from '../mail/outbox';
import { invalidMailToken, issueMailToken, spendAllMailTokens, spendMailToken } from './mail-tokens';
import { hashPassword, verifyPassword } from './passwords';
import { assertUnder, hitAll, WINDOWS } from './rate-limits';
import type { SessionStore, SessionUser } from './sessions';
import { announceUserStatus } from './status-changes';

export type AccountsDeps = {
  db: Db;
  engine: StreamEngine;
  sessions: SessionStore;
  publicUrl: string;
  rateLimits: { login: number; signup: number; passwordReset: number; register: number };
  now: () => Date;
  /** Called after a mail was queued, so the worker sends it now rather than on its next tick. */
  mailQueued: () => void;
};

export function toUser(row: SessionUser): User {
  return { id: row.id, email: row.email, role: row.role, email_verified: row.emailVerifiedAt !== null };
}

/** Accounts: signup, login, email verification, password reset, status changes (spec 002 §8). */
export class Accounts {
  constructor(private readonly deps: AccountsDeps) {}

  async signup(input: { email: string; password: string }, actor: AuditActor) {
    const { db, engine, rateLimits } = this.deps;
    await hitAll(engine, [`rl:signup:ip:${actor.ip}`], rateLimits.signup, WINDOWS.signup);
    const passwordHash = await hashPassword(input.password);
    try {
      return await db.transaction(async (tx) => {
        const [user] = await tx.insert(users).values({ email: input.email, passwordHash }).returning();
        if (!user) throw new Error('insert returned no row');
        await this.queueVerification(tx, user);
        await writeAudit(
          tx,
          { ...actor, actorUserId: user.id },
          {
            action: 'auth.signup',
            targetType: 'user',
            targetId: user.id,
            details: { email: user.email },
          },
        );
        const session = await this.deps.sessions.create(user.id, actor, tx);
        return { user, session };
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new ApiError(409, 'AUTH_EMAIL_TAKEN', 'An account with this email already exists', {
          fields: [{ path: 'email', message: 'is already registered' }],
        });
      }
      throw err;
    } finally {
      this.deps.mailQueued();
    }
  }

  /**
   * Counts failed attempts per IP and per account (10 per 10 minutes each); once either is at the limit
   * every attempt is refused, even with the right password. Failures are audited sampled: the first of a
   * window and the one that reaches the limit.
   */
  async login(input: { email: string; password: string }, actor: AuditActor) {
    const { db, engine, rateLimits } = this.deps;
    const keys = [`rl:login:ip:${actor.ip}`, `rl:login:acct:${input.email}`];
    await assertUnder(engine, keys, rateLimits.login);
    const [user] = await db.select().from(users).where(eq(users.email, input.email)).limit(1);
    const ok = await verifyPassword(user?.passwordHash, input.password);
    if (!user || !ok) {
      const counts = await Promise.all(keys.map((key) => engine.hit(key, WINDOWS.login)));
      const accountFailures = counts[1]?.count ?? 0;
      if (accountFailures === 1 || accountFailures === rateLimits.login) {
        await writeAudit(db, actor, {
          action: accountFailures === 1 ? 'auth.login_failed' : 'auth.login_locked',
          targetType: 'user',
          targetId: user?.id,
          details: {
            email: input.email,
            reason: user ? 'wrong_password' : 'unknown_email',
            failures_in_window: accountFailures,
            ip_failures_in_window: counts[0]?.count ?? 0,
          },
        });
      }
      throw new ApiError(401, 'AUTH_INVALID_CREDENTIALS', 'Wrong email or password');
    }
    if (user.status !== 'active') {
      await writeAudit(
        db,
        { ...actor, actorUserId: user.id },
        {
          action: 'auth.login_refused_disabled',
          targetType: 'user',
          targetId: user.id,
        },
      );
      throw new ApiError(403, 'AUTH_USER_DISABLED', 'This account is disabled');
    }
    const session = await this.deps.sessions.create(user.id, actor);
    return { user, session };
  }

  async resendVerification(user: SessionUser): Promise<void> {
    if (user.emailVerifiedAt) return;
    await this.deps.db.transaction(async (tx) => this.queueVerification(tx, user));
    this.deps.mailQueued();
  }

  async verifyEmail(token: string, actor: AuditActor): Promise<void> {
    const { db, now } = this.deps;
    await db.transaction(async (tx) => {
      const userId = await spendMailToken(tx, 'verify_email', token, now());
      await tx
        .update(users)
        .set({ emailVerifiedAt: now(), updatedAt: now() })
        .where(and(eq(users.id, userId), isNull(users.emailVerifiedAt)));
      await writeAudit(
        tx,
        { ...actor, actorUserId: userId },
        {
          action: 'auth.email_verified',
          targetType: 'user',
          targetId: userId,
        },
      );
    });
  }

  /** Always succeeds from the caller's view: whether the email has an account is not revealed. */
  async requestPasswordReset(email: string, actor: AuditActor): Promise<void> {
    const { db, engine, rateLimits, now } = this.deps;
    await hitAll(
      engine,
      [`rl:reset:acct:${email}`, `rl:reset:ip:${actor.ip}`],
      rateLimits.passwordReset,
      WINDOWS.passwordReset,
    );
    const [user] = await db.select().from(users).where(eq(users.email, email)).limit(1);
    if (user?.status !== 'active') return;
    await db.transaction(async (tx) => {
      const token = await issueMailToken(tx, 'password_reset', user.id, now());
      await enqueueMail(tx, {
        to: user.email,
        template: 'password_reset',
        payload: { link: `${this.deps.publicUrl}/reset-password#token=${token}` },
      });
      await writeAudit(tx, actor, {
        action: 'auth.password_reset_requested',
        targetType: 'user',
        targetId: user.id,
      });
    });
    this.deps.mailQueued();
  }

  /** Sets the new password, spends every open reset link of the user and ends all their sessions. */
  async confirmPasswordReset(token: string, password: string, actor: AuditActor): Promise<void> {
    const { db, now } = this.deps;
    const passwordHash = await hashPassword(password);
    await db.transaction(async (tx) => {
      const userId = await spendMailToken(tx, 'password_reset', token, now());
      const [user] = await tx.select().from(users).where(eq(users.id, userId)).limit(1);
      if (user?.status !== 'active') throw invalidMailToken();
      await spendAllMailTokens(tx, 'password_reset', user.id, now());
      // Following the link proves the mailbox is theirs.
      await tx
        .update(users)
        .set({ passwordHash, emailVerifiedAt: user.emailVerifiedAt ?? now(), updatedAt: now() })
        .where(eq(users.id, user.id));
      await this.deps.sessions.destroyAllFor(user.id, tx);
      await writeAudit(
        tx,
        { ...actor, actorUserId: user.id },
        {
          action: 'auth.password_reset_completed',
          targetType: 'user',
          targetId: user.id,
        },
      );
    });
  }

  /** create-admin: a new super_admin, or an existing account promoted (its password unchanged). */
  async createAdmin(email: string, password: string | undefined, actor: AuditActor) {
    const { db, now } = this.deps;
    return db.transaction(async (tx) => {
      const [existing] = await tx.select().from(users).where(eq(users.email, email)).limit(1);
      if (existing) {
        if (existing.role === 'super_admin') return { user: existing, outcome: 'unchanged' as const };
        const [promoted] = await tx
          .update(users)
          .set({ role: 'super_admin', updatedAt: now() })
          .where(eq(users.id, existing.id))
          .returning();
        await writeAudit(tx, actor, {
          action: 'admin.user_promoted',
          targetType: 'user',
          targetId: existing.id,
          details: { before: { role: existing.role }, after: { role: 'super_admin' }, via: 'cli' },
        });
        return { user: promoted ?? existing, outcome: 'promoted' as const };
      }
      if (!password) throw new ApiError(400, 'VALIDATION_ERROR', 'A password is required for a new account');
      const [user] = await tx
        .insert(users)
        .values({
          email,
          passwordHash: await hashPassword(password),
          role: 'super_admin',
          emailVerifiedAt: now(),
        })
        .returning();
      if (!user) throw new Error('insert returned no row');
      await writeAudit(tx, actor, {
        action: 'admin.user_created',
        targetType: 'user',
        targetId: user.id,
        details: { email, role: 'super_admin', via: 'cli' },
      });
      return { user, outcome: 'created' as const };
    });
  }

  /**
   * Disable or enable an account (super_admin). Disabling ends every session of the user at once; once it is
   * committed it is announced (status-changes.ts) so that every instance closes the user's node connections
   * and stops bridging their groups. Enabling is announced too: the relay bridges their groups again.
   */
  async setStatus(admin: SessionUser, targetId: string, status: 'active' | 'disabled', actor: AuditActor) {
    const { db, engine, now } = this.deps;
    if (admin.id === targetId && status === 'disabled') {
      throw new ApiError(409, 'CONFLICT', 'You cannot disable your own account');
    }
    const user = await db.transaction(async (tx) => {
      const [before] = await tx.select().from(users).where(eq(users.id, targetId)).for('update').limit(1);
      if (!before) throw new ApiError(404, 'NOT_FOUND', 'User not found');
      const [after] = await tx
        .update(users)
        .set({ status, updatedAt: now() })
        .where(eq(users.id, targetId))
        .returning();
      if (!after) throw new Error('update returned no row');
      if (status === 'disabled') await this.deps.sessions.destroyAllFor(targetId, tx);
      await writeAudit(tx, actor, {
        action: status === 'disabled' ? 'admin.user_disabled' : 'admin.user_enabled',
        targetType: 'user',
        targetId,
        details: { email: after.email, before: { status: before.status }, after: { status } },
      });
      return after;
    });
    // Even when the status did not change: disabling again is how an admin repeats a lost announcement.
    await announceUserStatus(engine, { user_id: targetId, status });
    return user;
  }

  async hasUsers(): Promise<boolean> {
    const rows = await this.deps.db.select({ id: users.id }).from(users).limit(1);
    return rows.length > 0;
  }

  private async queueVerification(tx: Db, user: SessionUser): Promise<void> {
    const token = await issueMailToken(tx, 'verify_email', user.id, this.deps.now());
    await enqueueMail(tx, {
      to: user.email,
      template: 'verify_email',
      payload: { link: `${this.deps.publicUrl}/verify-email#token=${token}` },
    });
  }
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code === '23505' || e?.cause?.code === '23505';
}
