import {
  type AdminUser,
  AdminUsersQuery,
  AdminUsersResponse,
  type AuditLogEntry,
  AuditLogsQuery,
  AuditLogsResponse,
} from '@canopy/protocol';
import { and, desc, eq, ilike, or, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { Router } from 'express';
import { z } from 'zod';
import type { Accounts } from '../accounts/accounts';
import type { Db } from '../db/client';
import { escapeLike } from '../db/like';
import { auditLogs, users } from '../db/schema';
import { decodeCursor, encodeCursor, type Position } from '../http/cursor';
import { notFound } from '../http/errors';
import { auditActor, requireSuperAdmin, userOf } from '../http/session-middleware';
import { parse } from '../http/validate';

const IdParam = z.object({ id: z.uuid({ message: 'must be a user id (UUID)' }) });

type UserRow = typeof users.$inferSelect;

function toAdminUser(u: UserRow): AdminUser {
  return {
    id: u.id,
    email: u.email,
    role: u.role,
    status: u.status,
    email_verified: u.emailVerifiedAt !== null,
    created_at: u.createdAt.toISOString(),
  };
}

/** Rows strictly after the cursor in (created_at desc, id desc) order. */
function before(createdAt: AnyPgColumn, id: AnyPgColumn, p: Position | undefined): SQL | undefined {
  return p
    ? sql`(${createdAt}, ${id}) < (${p.createdAt.toISOString()}::timestamptz, ${p.id}::uuid)`
    : undefined;
}

/** /api/v1/admin: super_admin only (spec 002 §8.4, §17.3 Admin). */
export function adminRoutes(db: Db, accounts: Accounts) {
  const router = Router();
  router.use(requireSuperAdmin);

  router.get('/users', async (req, res) => {
    const q = parse(AdminUsersQuery, req.query);
    const rows = await db
      .select()
      .from(users)
      .where(
        and(
          q.q ? ilike(users.email, `%${escapeLike(q.q)}%`) : undefined,
          before(users.createdAt, users.id, decodeCursor(q.cursor)),
        ),
      )
      .orderBy(desc(users.createdAt), desc(users.id))
      .limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    res.json(
      AdminUsersResponse.parse({
        users: page.map(toAdminUser),
        next_cursor: rows.length > q.limit && last ? encodeCursor(last) : null,
      }),
    );
  });

  for (const [action, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    router.post(`/users/:id/${action}`, async (req, res) => {
      const { id } = parse(IdParam, req.params);
      const user = await accounts.setStatus(userOf(req), id, status, auditActor(req));
      req.log.info({ target_user_id: id, status }, `user ${status}`);
      res.json({ user: toAdminUser(user) });
    });
  }

  router.get('/users/:id', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    const [user] = await db.select().from(users).where(eq(users.id, id)).limit(1);
    if (!user) throw notFound('User');
    res.json({ user: toAdminUser(user) });
  });

  router.get('/audit-logs', async (req, res) => {
    const q = parse(AuditLogsQuery, req.query);
    const actor = q.actor
      ? z.uuid().safeParse(q.actor).success
        ? eq(auditLogs.actorUserId, q.actor)
        : ilike(users.email, `%${escapeLike(q.actor)}%`)
      : undefined;
    const rows = await db
      .select({ entry: auditLogs, actorEmail: users.email })
      .from(auditLogs)
      .leftJoin(users, eq(users.id, auditLogs.actorUserId))
      .where(
        and(
          q.action
            ? or(eq(auditLogs.action, q.action), ilike(auditLogs.action, `${escapeLike(q.action)}.%`))
            : undefined,
          actor,
          q.target ? eq(auditLogs.targetId, q.target) : undefined,
          before(auditLogs.createdAt, auditLogs.id, decodeCursor(q.cursor)),
        ),
      )
      .orderBy(desc(auditLogs.createdAt), desc(auditLogs.id))
      .limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page.at(-1)?.entry;
    const entries: AuditLogEntry[] = page.map(({ entry, actorEmail }) => ({
      id: entry.id,
      created_at: entry.createdAt.toISOString(),
      action: entry.action,
      actor_user_id: entry.actorUserId,
      actor_email: actorEmail,
      target_type: entry.targetType,
      target_id: entry.targetId,
      ip: entry.ip,
      user_agent: entry.userAgent,
      details: entry.details,
    }));
    res.json(
      AuditLogsResponse.parse({
        entries,
        next_cursor: rows.length > q.limit && last ? encodeCursor(last) : null,
      }),
    );
  });

  return router;
}
