import type { ConsoleEvent } from '@canopy/protocol';
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { SessionUser } from '../accounts/sessions';
import { ApiError } from '../http/errors';
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
  /** The user of a session now, or null once it ended (logout, expiry, the account disabled). */
  sessionUser(sessionId: string): Promise<SessionUser | null>;
  /** How often an open console checks that its viewer may still watch it (default 5 s). */
  recheckMs?: number;
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
  const allowed = accessCheck(deps);
  router.use(requireUser);
  router.get('/dongles/:id/console', (req, res) => serve(deps, allowed, req, res, 'dongle'));
  router.get('/groups/:id/console', (req, res) => serve(deps, allowed, req, res, 'group'));
  return router;
}

type AccessCheck = (sessionId: string, kind: ConsoleKind, id: string) => Promise<boolean>;

/**
 * Whether a session may still watch a console: the session is live (not logged out, expired or disabled) and
 * its user may see the dongle or group (still its owner, or a super_admin). Connections of one session to
 * one console share an answer for half the recheck interval, so 200 tabs cost one check.
 */
function accessCheck(deps: ConsoleRouteDeps): AccessCheck {
  const maxAgeMs = (deps.recheckMs ?? RECHECK_MS) / 2;
  const answers = new Map<string, { at: number; answer: Promise<boolean> }>();
  const check = async (sessionId: string, kind: ConsoleKind, id: string) => {
    const user = await deps.sessionUser(sessionId);
    if (!user) return false;
    try {
      await deps.authorize(user, kind, id);
      return true;
    } catch (err) {
      if (err instanceof ApiError) return false;
      throw err;
    }
  };
  return (sessionId, kind, id) => {
    const key = `${sessionId}:${kind}:${id}`;
    const now = Date.now();
    for (const [k, a] of answers) if (now - a.at > maxAgeMs) answers.delete(k);
    let known = answers.get(key);
    if (!known) {
      known = { at: now, answer: check(sessionId, kind, id) };
      known.answer.catch(() => answers.delete(key)); // a failed check is asked again next time
      answers.set(key, known);
    }
    return known.answer;
  };
}

/** How often an open console checks that its viewer may still watch it. */
const RECHECK_MS = 5000;

async function serve(
  deps: ConsoleRouteDeps,
  allowed: AccessCheck,
  req: Request,
  res: Response,
  kind: ConsoleKind,
): Promise<void> {
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
  // Access is checked again while the console is open: a viewer who logs out, is disabled, or no longer owns
  // the dongle (unpaired, paired by someone else) stops getting its events within RECHECK_MS.
  const sessionId = req.sessionId as string;
  const recheck = setInterval(() => {
    allowed(sessionId, kind, id)
      .then((ok) => {
        if (ok || conn.isClosed) return;
        log.info('live console closed: its viewer may no longer watch it');
        conn.send('log', {
          ts: new Date().toISOString(),
          level: 'error',
          code: 'console_access_ended',
          message: 'You can no longer watch this console (logged out, or no longer its owner)',
        });
        conn.end();
      })
      .catch((err) =>
        log.warn({ err: String(err) }, 'could not check access to the live console; checking again'),
      );
  }, deps.recheckMs ?? RECHECK_MS);
  recheck.unref();
  res.on('close', () => {
    clearInterval(recheck);
    unsubscribe?.();
  });
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
