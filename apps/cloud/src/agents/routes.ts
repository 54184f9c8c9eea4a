import {
  AgentResponse,
  AgentsResponse,
  CreateEnrollmentKeyRequest,
  type CreateEnrollmentKeyResponse,
  type EnrollmentKey,
  EnrollmentKeysResponse,
  RenameAgentRequest,
  TaskResponse,
  TaskSpec,
  TasksResponse,
} from '@canopy/protocol';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { Router } from 'express';
import { z } from 'zod';
import { writeAudit } from '../audit/writer';
import type { Db } from '../db/client';
import { enrollmentKeys } from '../db/schema';
import { notFound } from '../http/errors';
import { auditActor, requireUser, userOf } from '../http/session-middleware';
import { parse } from '../http/validate';
import { type AgentService, toTask } from './agents';
import { createEnrollmentKey } from './credentials';

const IdParam = z.object({ id: z.uuid({ message: 'must be an id (UUID)' }) });
const TaskParams = IdParam.extend({ task_id: z.uuid({ message: 'must be a task id (UUID)' }) });

function toEnrollmentKey(row: typeof enrollmentKeys.$inferSelect): EnrollmentKey {
  return {
    id: row.id,
    label: row.label,
    prefix: row.prefix,
    created_at: row.createdAt.toISOString(),
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
  };
}

/** The owner's side: enrollment keys, the node list, tasks (logged-in users, their own nodes only). */
export function agentRoutes(db: Db, service: AgentService, now: () => Date) {
  const router = Router();
  router.use(requireUser);

  router.get('/enrollment-keys', async (req, res) => {
    const rows = await db
      .select()
      .from(enrollmentKeys)
      .where(eq(enrollmentKeys.userId, userOf(req).id))
      .orderBy(desc(enrollmentKeys.createdAt));
    res.json(EnrollmentKeysResponse.parse({ keys: rows.map(toEnrollmentKey) }));
  });

  router.post('/enrollment-keys', async (req, res) => {
    const { label } = parse(CreateEnrollmentKeyRequest, req.body);
    const { row, secret } = await createEnrollmentKey(db, userOf(req).id, label);
    await writeAudit(db, auditActor(req), {
      action: 'agent.enrollment_key_created',
      targetType: 'enrollment_key',
      targetId: row.id,
      details: { label: row.label, prefix: row.prefix },
    });
    const body: CreateEnrollmentKeyResponse = { key: toEnrollmentKey(row), secret };
    res.status(201).set('Cache-Control', 'no-store').json(body);
  });

  router.delete('/enrollment-keys/:id', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    const [row] = await db
      .update(enrollmentKeys)
      .set({ revokedAt: now() })
      .where(
        and(
          eq(enrollmentKeys.id, id),
          eq(enrollmentKeys.userId, userOf(req).id),
          isNull(enrollmentKeys.revokedAt),
        ),
      )
      .returning();
    if (!row) throw notFound('Enrollment key');
    await writeAudit(db, auditActor(req), {
      action: 'agent.enrollment_key_revoked',
      targetType: 'enrollment_key',
      targetId: id,
      details: { label: row.label, prefix: row.prefix },
    });
    res.status(204).end();
  });

  router.get('/', async (req, res) => {
    res.json(AgentsResponse.parse({ agents: await service.list(userOf(req).id) }));
  });

  router.get('/:id', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    res.json(AgentResponse.parse({ agent: service.summary(await service.get(userOf(req).id, id)) }));
  });

  router.patch('/:id', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    const { name } = parse(RenameAgentRequest, req.body);
    const row = await service.rename(userOf(req).id, id, name, auditActor(req));
    res.json(AgentResponse.parse({ agent: service.summary(row) }));
  });

  router.delete('/:id', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    await service.remove(userOf(req).id, id, auditActor(req));
    res.status(204).end();
  });

  router.post('/:id/tasks', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    const spec = parse(TaskSpec, req.body);
    const task = await service.createTask(userOf(req).id, id, spec, auditActor(req));
    res.status(201).json(TaskResponse.parse({ task: toTask(task) }));
  });

  router.get('/:id/tasks', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    const rows = await service.listTasks(userOf(req).id, id);
    res.json(TasksResponse.parse({ tasks: rows.map(toTask) }));
  });

  router.get('/:id/tasks/:task_id', async (req, res) => {
    const { id, task_id } = parse(TaskParams, req.params);
    res.json(TaskResponse.parse({ task: toTask(await service.getTask(userOf(req).id, id, task_id)) }));
  });

  return router;
}
