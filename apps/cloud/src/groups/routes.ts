import { CreateGroupRequest, CreateGroupResponse, GroupResponse, GroupsResponse } from '@canopy/protocol';
import { Router } from 'express';
import { z } from 'zod';
import { auditActor, requireUser, userOf } from '../http/session-middleware';
import { parse } from '../http/validate';
import type { GroupService } from './service';

const IdParam = z.object({ id: z.uuid({ message: 'must be a group id (UUID)' }) });

/**
 * /api/v1/groups (spec 002 §17.3): the owner's groups — list, create, read, activate, deactivate, delete. A
 * super_admin may read and act on any group; for anyone else another user's group does not exist (404).
 */
export function groupRoutes(service: GroupService) {
  const router = Router();
  router.use(requireUser);

  router.get('/', async (req, res) => {
    res.json(GroupsResponse.parse({ groups: await service.list(userOf(req)) }));
  });

  router.post('/', async (req, res) => {
    const input = parse(CreateGroupRequest, req.body);
    const group = await service.create(userOf(req), input, auditActor(req));
    res.status(201).json(CreateGroupResponse.parse({ group_id: group.id, status: group.mode, group }));
  });

  router.get('/:id', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    res.json(GroupResponse.parse({ group: await service.get(userOf(req), id) }));
  });

  router.post('/:id/activate', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    res.json(GroupResponse.parse({ group: await service.activate(userOf(req), id, auditActor(req)) }));
  });

  router.post('/:id/deactivate', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    res.json(GroupResponse.parse({ group: await service.deactivate(userOf(req), id, auditActor(req)) }));
  });

  router.delete('/:id', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    await service.delete(userOf(req), id, auditActor(req));
    res.status(204).end();
  });

  return router;
}
