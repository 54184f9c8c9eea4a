import { eq, lt } from 'drizzle-orm';
import type { Db } from '../db/client';
import { sessions, users } from '../db/schema';
import { hashSecret, newSecret } from './secrets';

export type SessionUser = typeof users.$inferSelect;
export type Resolved =
  | { kind: 'ok'; user: SessionUser; sessionId: string }
  | { kind: 'expired' }
  | { kind: 'none' };

/** Server-side sessions: the cookie holds a random token, the table holds its hash. */
export class SessionStore {
  constructor(
    private readonly db: Db,
    private readonly ttlMs: number,
    private readonly now: () => Date,
  ) {}

  async create(userId: string, meta: { ip: string | null; userAgent: string | null }, db: Db = this.db) {
    const token = newSecret();
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    await db.insert(sessions).values({
      id: hashSecret(token),
      userId,
      createdAt: now,
      expiresAt,
      ip: meta.ip,
      userAgent: meta.userAgent?.slice(0, 512) ?? null,
    });
    return { token, expiresAt };
  }

  /**
   * Finds the session of a cookie token. A session used after half its life is extended, so an active user
   * stays logged in and an idle one is logged out after the TTL.
   */
  async resolve(token: string): Promise<Resolved> {
    const id = hashSecret(token);
    const [row] = await this.db
      .select({ session: sessions, user: users })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(eq(sessions.id, id))
      .limit(1);
    if (!row) return { kind: 'none' };
    const now = this.now();
    if (row.session.expiresAt <= now) {
      await this.db.delete(sessions).where(eq(sessions.id, id));
      return { kind: 'expired' };
    }
    if (row.user.status !== 'active') return { kind: 'none' };
    if (row.session.expiresAt.getTime() - now.getTime() < this.ttlMs / 2) {
      await this.db
        .update(sessions)
        .set({ expiresAt: new Date(now.getTime() + this.ttlMs) })
        .where(eq(sessions.id, id));
    }
    return { kind: 'ok', user: row.user, sessionId: id };
  }

  /**
   * The user of a session already resolved (by its id, the token's hash), or null once it ended: logged out,
   * expired, or its user disabled. Extends nothing: for checks that repeat on an open connection.
   */
  async current(sessionId: string): Promise<SessionUser | null> {
    const [row] = await this.db
      .select({ expiresAt: sessions.expiresAt, user: users })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(eq(sessions.id, sessionId))
      .limit(1);
    if (!row || row.expiresAt <= this.now() || row.user.status !== 'active') return null;
    return row.user;
  }

  async destroy(sessionId: string): Promise<void> {
    await this.db.delete(sessions).where(eq(sessions.id, sessionId));
  }

  async destroyAllFor(userId: string, db: Db = this.db): Promise<void> {
    await db.delete(sessions).where(eq(sessions.userId, userId));
  }

  /** Deletes expired sessions; run periodically. */
  async sweep(): Promise<number> {
    const gone = await this.db
      .delete(sessions)
      .where(lt(sessions.expiresAt, this.now()))
      .returning({ id: sessions.id });
    return gone.length;
  }
}
