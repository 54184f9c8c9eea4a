import type { ConsoleEvent } from '@canopy/protocol';
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { SessionUser } from '../accounts/sessions';
import { requireUser, userOf } from '../http/session-middleware';
import { parse } from '../http/validate';
import type { ConsoleStreams } from './console-streams';
import { type ConsoleKind, consoleStreamKey } from './keys';
import { SseConnection } from './sse';

export type ConsoleRouteDeps = {
  streams: ConsoleStreams;
  /** Throws the ApiError to answer (404 DONGLE_NOT_FOUND / GROUP_NOT_FOUND) unless `user` may watch it. */
  authorize(user: SessionUser, kind: ConsoleKind, id: string): Promise<void>;
  /** What a client starting afresh gets first (the presence now), without ids. */
  snapshot?(user: SessionUser, kind: ConsoleKind, id: string): Promise<ConsoleEvent[]>;
  keepAliveMs?: number;
  retryMs?: number;
  maxQueueBytes?: number;
};

const IdParam = z.object({ id: z.uuid({ message: 'must be a UUID' }) });
const LastEventIdQuery = z.object({ last_event_id: z.string().max(64).optional() });

/**
 * GET /api/v1/streams/dongles/:id/console and GET /api/v1/streams/groups/:id/console (spec 002 §17.3, §18):
 * the live console as text/event-stream. `Last-Event-ID` (or ?last_event_id= for clients that cannot set
 * it) resumes from the shared ring buffer; an id no longer in it gets `stream_reset`, then live events.
 */
export function consoleRoutes(deps: ConsoleRouteDeps) {
  const router = Router();
  router.use(requireUser);
  router.get('/dongles/:id/console', (req, res) => serve(deps, req, res, 'dongle'));
  router.get('/groups/:id/console', (req, res) => serve(deps, req, res, 'group'));
  return router;
}

async function serve(deps: ConsoleRouteDeps, req: Request, res: Response, kind: ConsoleKind): Promise<void> {
  const { id } = parse(IdParam, req.params);
  const user = userOf(req);
  await deps.authorize(user, kind, id);
  const header = req.get('last-event-id');
  const lastEventId = header?.trim() || parse(LastEventIdQuery, req.query).last_event_id || undefined;
  const stream = consoleStreamKey(kind, id);
  const log = req.log.child({ stream });

  const conn = new SseConnection(res, {
    requestId: String(req.id),
    keepAliveMs: deps.keepAliveMs ?? 15_000,
    retryMs: deps.retryMs ?? 2000,
    maxQueueBytes: deps.maxQueueBytes ?? 1024 * 1024,
    log,
  });
  let unsubscribe: (() => void) | undefined;
  res.on('close', () => unsubscribe?.());
  try {
    const start = await deps.streams.startingPoint(stream, lastEventId);
    const { reset } = start;
    if (reset) conn.send('stream_reset', reset);
    if (reset || lastEventId === undefined) {
      for (const event of (await deps.snapshot?.(user, kind, id)) ?? []) conn.send(event.type, event.data);
    }
    if (conn.isClosed) return;
    unsubscribe = deps.streams.subscribe(stream, start, conn);
    log.debug({ from: start.from, resumed: !!lastEventId && !reset }, 'live console connected');
  } catch (err) {
    // The stream engine is unreachable: say so and end; the client retries after `retry`.
    log.warn({ err: String(err) }, 'live console unavailable');
    conn.send('log', {
      ts: new Date().toISOString(),
      level: 'error',
      code: 'console_unavailable',
      message: 'The live console is unavailable for a moment; reconnecting',
    });
    conn.end();
  }
}
