import {
  type AgentSummary,
  FINAL_TASK_STATUSES,
  type RegisterRequest,
  type Task,
  type TaskMessage,
  type TaskSpec,
  type TaskUpdate,
} from '@canopy/protocol';
import { and, asc, count, desc, eq, exists, gt, inArray, isNull, lte, sql } from 'drizzle-orm';
import { type AuditActor, writeAudit } from '../audit/writer';
import type { Db } from '../db/client';
import { agents, agentTokens, tasks, users } from '../db/schema';
import { ApiError } from '../http/errors';
import {
  type AgentRow,
  findEnrollmentKey,
  issueAgentToken,
  issueSessionToken,
  newSessionSecret,
  revokeAgentTokens,
} from './credentials';
import type { AgentHub } from './hub';

type TaskRow = typeof tasks.$inferSelect;

export type AgentsDeps = {
  db: Db;
  hub: AgentHub;
  now: () => Date;
  sessionTtlMs: number;
  /** A node not heard from for this long is offline. */
  idleTimeoutMs: number;
  /** Most unacknowledged messages queued for one node. */
  queueMax: number;
};

/** Nodes (agents), their presence and their tasks: spec 000 backend, spec 002 §9.2. */
export class AgentService {
  constructor(private readonly deps: AgentsDeps) {}

  async register(input: RegisterRequest, actor: AuditActor) {
    const { db, now } = this.deps;
    return db.transaction(async (tx) => {
      const key = await findEnrollmentKey(tx, input.enrollment_key, now());
      const [agent] = await tx
        .insert(agents)
        .values({
          userId: key.userId,
          name: input.name ?? input.hostname,
          hostname: input.hostname,
          os: input.os,
          version: input.version,
          fingerprint: input.fingerprint,
          networkInterfaces: input.network_interfaces,
        })
        .returning();
      if (!agent) throw new Error('insert returned no row');
      const agentToken = await issueAgentToken(tx, agent.id);
      await writeAudit(
        tx,
        { ...actor, actorUserId: key.userId },
        {
          action: 'agent.registered',
          targetType: 'agent',
          targetId: agent.id,
          details: {
            hostname: input.hostname,
            os: input.os,
            version: input.version,
            enrollment_key_id: key.id,
          },
        },
      );
      return { agent, agentToken };
    });
  }

  newSessionToken(agentId: string) {
    return issueSessionToken(this.deps.db, agentId, this.deps.sessionTtlMs, this.deps.now());
  }

  /**
   * A WebSocket connection was accepted: in one statement (a reconnect storm makes thousands of these), issue
   * its session token, mark the node online over `ws`, and say whether messages wait beyond its cursor. Null
   * when its user's account is disabled by now: the disable may have been announced between the connection's
   * authentication and its registration, unseen by it. (The session token is then written all the same, and
   * refused like every token of a disabled account.)
   */
  async welcome(agentId: string) {
    const { db, now, sessionTtlMs } = this.deps;
    const session = newSessionSecret(now(), sessionTtlMs);
    const issued = db
      .$with('issued')
      .as(
        db
          .insert(agentTokens)
          .values({ agentId, kind: 'session', tokenHash: session.tokenHash, expiresAt: session.expiresAt })
          .returning({ id: agentTokens.id }),
      );
    const [row] = await db
      .with(issued)
      .update(agents)
      .set({ lastSeenAt: now(), offlineAt: null, connectionType: 'ws' })
      .where(
        and(
          eq(agents.id, agentId),
          exists(
            db
              .select({ id: users.id })
              .from(users)
              .where(and(eq(users.id, agents.userId), eq(users.status, 'active'))),
          ),
        ),
      )
      .returning({
        name: agents.name,
        ackedCursor: agents.ackedCursor,
        // Spelled out: drizzle drops the table names of columns in an UPDATE's RETURNING, which would make
        // `agent_id = id` compare two columns of tasks.
        pending: sql<boolean>`exists (select 1 from tasks t where t.agent_id = agents.id and t.cursor > agents.acked_cursor and t.status = 'queued')`,
      });
    if (!row) return null;
    return { ...row, token: session.token, expiresAt: session.expiresAt };
  }

  /** Any contact from the node: it is online, through this transport. Returns the agent's row. */
  async touch(
    agentId: string,
    fields: {
      connectionType?: 'ws' | 'poll';
      state?: string;
      uptimeS?: number;
      version?: string;
      serviceKind?: 'systemd' | 'launchd' | 'windows' | null;
    } = {},
  ): Promise<AgentRow> {
    const [row] = await this.deps.db
      .update(agents)
      .set({
        lastSeenAt: this.deps.now(),
        offlineAt: null,
        ...(fields.connectionType ? { connectionType: fields.connectionType } : {}),
        ...(fields.state ? { state: fields.state } : {}),
        ...(fields.uptimeS !== undefined ? { uptimeS: Math.round(fields.uptimeS) } : {}),
        ...(fields.version ? { version: fields.version } : {}),
        ...(fields.serviceKind !== undefined ? { serviceKind: fields.serviceKind } : {}),
      })
      .where(eq(agents.id, agentId))
      .returning();
    if (!row) throw new ApiError(404, 'NOT_FOUND', 'Node not found');
    return row;
  }

  /** Presence of many live WebSocket nodes at once: one statement per sweep, not one per node. */
  async touchMany(agentIds: string[]): Promise<void> {
    if (agentIds.length === 0) return;
    await this.deps.db
      .update(agents)
      .set({ lastSeenAt: this.deps.now(), offlineAt: null })
      .where(inArray(agents.id, agentIds));
  }

  /** `going_offline`: the node shut down cleanly; it shows offline at once. */
  async markOffline(agentId: string): Promise<void> {
    await this.deps.db.update(agents).set({ offlineAt: this.deps.now() }).where(eq(agents.id, agentId));
  }

  async list(userId: string): Promise<AgentSummary[]> {
    const rows = await this.deps.db
      .select()
      .from(agents)
      .where(and(eq(agents.userId, userId), isNull(agents.removedAt)))
      .orderBy(asc(agents.name), asc(agents.createdAt));
    return rows.map((row) => this.summary(row));
  }

  async get(userId: string, agentId: string): Promise<AgentRow> {
    const [row] = await this.deps.db
      .select()
      .from(agents)
      .where(and(eq(agents.id, agentId), eq(agents.userId, userId), isNull(agents.removedAt)))
      .limit(1);
    if (!row) throw new ApiError(404, 'NOT_FOUND', 'Node not found');
    return row;
  }

  summary(row: AgentRow): AgentSummary {
    const now = this.deps.now().getTime();
    const seen = row.lastSeenAt?.getTime();
    const online =
      !row.removedAt &&
      seen !== undefined &&
      now - seen < this.deps.idleTimeoutMs &&
      !(row.offlineAt && row.offlineAt.getTime() >= seen);
    return {
      id: row.id,
      name: row.name,
      hostname: row.hostname,
      os: row.os,
      version: row.version,
      online,
      connection_type: row.connectionType,
      state: online ? row.state : null,
      last_seen_at: row.lastSeenAt?.toISOString() ?? null,
      uptime_s:
        online && row.uptimeS !== null && seen !== undefined
          ? row.uptimeS + Math.round((now - seen) / 1000)
          : null,
      service: row.serviceKind,
      created_at: row.createdAt.toISOString(),
    };
  }

  async rename(userId: string, agentId: string, name: string, actor: AuditActor): Promise<AgentRow> {
    const before = await this.get(userId, agentId);
    const [row] = await this.deps.db
      .update(agents)
      .set({ name, updatedAt: this.deps.now() })
      .where(eq(agents.id, agentId))
      .returning();
    await writeAudit(this.deps.db, actor, {
      action: 'agent.renamed',
      targetType: 'agent',
      targetId: agentId,
      details: { before: { name: before.name }, after: { name } },
    });
    return row ?? before;
  }

  /** Removes a node: its tokens are revoked and its live connection closes (on whichever instance). */
  async remove(userId: string, agentId: string, actor: AuditActor): Promise<void> {
    const agent = await this.get(userId, agentId);
    const now = this.deps.now();
    await this.deps.db.transaction(async (tx) => {
      await tx.update(agents).set({ removedAt: now, offlineAt: now }).where(eq(agents.id, agentId));
      await revokeAgentTokens(tx, agentId, now);
      await writeAudit(tx, actor, {
        action: 'agent.removed',
        targetType: 'agent',
        targetId: agentId,
        details: { name: agent.name, hostname: agent.hostname },
      });
    });
    await this.deps.hub.signal(agentId, { kind: 'revoked' });
  }

  // ---- tasks ----

  async createTask(userId: string, agentId: string, spec: TaskSpec, actor: AuditActor): Promise<TaskRow> {
    const { db, queueMax } = this.deps;
    const agent = await this.get(userId, agentId);
    const task = await db.transaction(async (tx) => {
      // Serialise queueing per agent so the bound holds under concurrent requests.
      await tx.select({ id: agents.id }).from(agents).where(eq(agents.id, agentId)).for('update');
      const [queued] = await tx
        .select({ n: count() })
        .from(tasks)
        .where(
          and(eq(tasks.agentId, agentId), gt(tasks.cursor, agent.ackedCursor), eq(tasks.status, 'queued')),
        );
      if ((queued?.n ?? 0) >= queueMax) {
        throw new ApiError(409, 'AGENT_QUEUE_FULL', `${queueMax} tasks are already waiting for this node`, {
          queue_max: queueMax,
        });
      }
      const [row] = await tx
        .insert(tasks)
        .values({ agentId, userId, type: spec.type, payload: spec.payload as Record<string, unknown> })
        .returning();
      if (!row) throw new Error('insert returned no row');
      await writeAudit(tx, actor, {
        action: 'task.created',
        targetType: 'agent',
        targetId: agentId,
        details: { task_id: row.id, type: spec.type, payload: summarisePayload(spec) },
      });
      return row;
    });
    await this.deps.hub.signal(agentId, { kind: 'wake' });
    return task;
  }

  async listTasks(userId: string, agentId: string, limit = 50): Promise<TaskRow[]> {
    await this.get(userId, agentId);
    return this.deps.db
      .select()
      .from(tasks)
      .where(eq(tasks.agentId, agentId))
      .orderBy(desc(tasks.createdAt), desc(tasks.cursor))
      .limit(limit);
  }

  async getTask(userId: string, agentId: string, taskId: string): Promise<TaskRow> {
    await this.get(userId, agentId);
    const [row] = await this.deps.db
      .select()
      .from(tasks)
      .where(and(eq(tasks.id, taskId), eq(tasks.agentId, agentId)))
      .limit(1);
    if (!row) throw new ApiError(404, 'NOT_FOUND', 'Task not found');
    return row;
  }

  /** Queued messages after `afterCursor`, oldest first. */
  async messagesAfter(agentId: string, afterCursor: number, limit = 100): Promise<TaskMessage[]> {
    const rows = await this.deps.db
      .select()
      .from(tasks)
      .where(and(eq(tasks.agentId, agentId), gt(tasks.cursor, afterCursor), eq(tasks.status, 'queued')))
      .orderBy(asc(tasks.cursor))
      .limit(limit);
    return rows.map((row) => ({
      type: 'task' as const,
      cursor: row.cursor,
      task: {
        id: row.id,
        type: row.type as TaskMessage['task']['type'],
        payload: row.payload,
        created_at: row.createdAt.toISOString(),
      },
    }));
  }

  /** The node has everything up to `cursor`: those tasks are delivered and will not be sent again. */
  async acknowledge(agentId: string, cursor: number): Promise<number> {
    const { db, now } = this.deps;
    return db.transaction(async (tx) => {
      const [row] = await tx
        .update(agents)
        .set({ ackedCursor: sql`greatest(${agents.ackedCursor}, ${cursor})` })
        .where(eq(agents.id, agentId))
        .returning({ acked: agents.ackedCursor });
      await tx
        .update(tasks)
        .set({ status: 'delivered', deliveredAt: now() })
        .where(and(eq(tasks.agentId, agentId), lte(tasks.cursor, cursor), eq(tasks.status, 'queued')));
      return row?.acked ?? 0;
    });
  }

  /**
   * Stores a node's task update. Updates of a finished task are ignored (a result is stored once even if the
   * node re-sends it); returns the task's status after the update. An update for a task this node does not
   * have is acknowledged as `error` and dropped, so the node stops re-sending it.
   */
  async applyTaskUpdate(agentId: string, update: TaskUpdate): Promise<Task['status']> {
    const { db, now } = this.deps;
    const final = (FINAL_TASK_STATUSES as readonly string[]).includes(update.status);
    const [row] = await db
      .update(tasks)
      .set({
        status: update.status,
        ...(update.status === 'running' ? { startedAt: now() } : {}),
        ...(final ? { finishedAt: now(), result: update.result ?? null, error: update.error ?? null } : {}),
        deliveredAt: sql`coalesce(${tasks.deliveredAt}, ${now().toISOString()}::timestamptz)`,
      })
      .where(
        and(
          eq(tasks.id, update.task_id),
          eq(tasks.agentId, agentId),
          sql`${tasks.status} not in ('done', 'error', 'rejected', 'timeout')`,
        ),
      )
      .returning({ status: tasks.status });
    if (row) return row.status;
    const [existing] = await db
      .select({ status: tasks.status })
      .from(tasks)
      .where(and(eq(tasks.id, update.task_id), eq(tasks.agentId, agentId)));
    return existing?.status ?? 'error';
  }
}

/** What the audit log keeps of a task: never file contents, a shell command in full. */
function summarisePayload(spec: TaskSpec): Record<string, unknown> {
  switch (spec.type) {
    case 'file_write':
      return { path: spec.payload.path, bytes: spec.payload.content.length, encoding: spec.payload.encoding };
    default:
      return spec.payload as Record<string, unknown>;
  }
}

export function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    agent_id: row.agentId,
    type: row.type as Task['type'],
    payload:
      row.type === 'file_write'
        ? {
            ...row.payload,
            content: `[${String((row.payload.content as string | undefined)?.length ?? 0)} characters]`,
          }
        : row.payload,
    status: row.status,
    result: row.result ?? null,
    error: row.error,
    created_at: row.createdAt.toISOString(),
    delivered_at: row.deliveredAt?.toISOString() ?? null,
    started_at: row.startedAt?.toISOString() ?? null,
    finished_at: row.finishedAt?.toISOString() ?? null,
  };
}
