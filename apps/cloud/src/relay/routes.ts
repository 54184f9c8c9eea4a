import { SendFramesRequest, type SendFramesResponse } from '@canopy/protocol';
import { Router } from 'express';
import { z } from 'zod';
import { writeAudit } from '../audit/writer';
import type { Db } from '../db/client';
import type { GroupService } from '../groups/service';
import { ApiError } from '../http/errors';
import { auditActor, requireUser, userOf } from '../http/session-middleware';
import { parse } from '../http/validate';
import type { ConsoleEmitter } from '../streams/console-streams';
import { canFrameEvent } from '../streams/frames';
import { consoleStreamKey } from '../streams/keys';
import type { Relay } from './relay';

const IdParam = z.object({ id: z.uuid({ message: 'must be a group id (UUID)' }) });

/**
 * POST /api/v1/groups/:id/frames (the group console's "send a frame"): the owner (or a super_admin) puts frames
 * onto one side's bus through the relay, numbered and ordered with the other side's own frames; audited.
 */
export function relayRoutes(deps: {
  db: Db;
  groups: GroupService;
  relay: Relay;
  now: () => Date;
  /** The group console shows every typed frame (never sampled: they are few and the user looks for them). */
  console: Pick<ConsoleEmitter, 'emit'>;
}) {
  const router = Router();
  router.use(requireUser);
  router.post('/:id/frames', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    const input = parse(SendFramesRequest, req.body);
    const group = await deps.groups.get(userOf(req), id); // 404 for anyone else
    if (group.mode === 'inactive') {
      throw new ApiError(409, 'CONFLICT', 'Activate the group to send frames through it');
    }
    const tsUs = BigInt(deps.now().getTime()) * 1000n;
    const frames = input.frames.map((f) => ({
      tsUs,
      id: f.id,
      extended: f.extended,
      flags: 0,
      data: new Uint8Array(Buffer.from(f.data, 'hex')),
    }));
    await deps.relay.inject(id, input.to, frames);
    const from = input.to === 'a' ? group.b.dongle_id : group.a.dongle_id;
    try {
      for (const frame of frames) {
        await deps.console.emit(consoleStreamKey('group', id), 'can_frame', {
          ...canFrameEvent(frame, { dongleId: from, direction: 'rx', groupId: id }),
          request_id: String(req.id),
        });
      }
    } catch (err) {
      req.log.warn({ err }, 'typed frames sent, but not shown in the live console');
    }
    await writeAudit(deps.db, auditActor(req), {
      action: 'group.frames_sent',
      targetType: 'group',
      targetId: id,
      details: {
        to: input.to,
        count: input.frames.length,
        frames: input.frames
          .slice(0, 10)
          .map((f) => ({ id: `0x${f.id.toString(16).toUpperCase()}`, data: f.data })),
      },
    });
    const body: SendFramesResponse = { queued: input.frames.length };
    res.status(202).json(body);
  });
  return router;
}
