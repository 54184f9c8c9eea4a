import type { Db } from '../db/client';
import { auditLogs } from '../db/schema';

/** Who did it and from where; taken from the request by `auditContext`. */
export type AuditActor = { actorUserId: string | null; ip: string | null; userAgent: string | null };

export type AuditEvent = {
  action: string;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
};

/** Writes one audit entry. Pass a transaction to make the entry part of the change it records. */
export async function writeAudit(db: Db, actor: AuditActor, event: AuditEvent): Promise<void> {
  await db.insert(auditLogs).values({
    actorUserId: actor.actorUserId,
    ip: actor.ip,
    userAgent: actor.userAgent ? actor.userAgent.slice(0, 512) : null,
    action: event.action,
    targetType: event.targetType ?? null,
    targetId: event.targetId ?? null,
    details: event.details ?? {},
  });
}
