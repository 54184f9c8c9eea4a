import {
  HeartbeatRequest,
  PollQuery,
  type PollResponse,
  RegisterRequest,
  type RegisterResponse,
  type SessionTokenResponse,
  TaskUpdate,
} from '@canopy/protocol';
import express, { type Request, type RequestHandler, Router } from 'express';
import { z } from 'zod';
import { hitAll } from '../accounts/rate-limits';
import type { Db } from '../db/client';
import type { StreamEngine } from '../engine';
import { auditActor } from '../http/session-middleware';
import { parse } from '../http/validate';
import type { AgentService } from './agents';
import { authenticateRequest } from './bearer';
import type { AgentRow } from './credentials';
import type { PollMailboxes } from './poll-mailbox';

declare global {
  namespace Express {
    interface Request {
      agent?: AgentRow;
    }
  }
}

/** Authenticates a node request with its agent or session token; sets req.agent. */
export function requireAgent(db: Db, kind: 'agent' | 'session', now: () => Date): RequestHandler {
  return async (req, _res, next) => {
    req.agent = await authenticateRequest(db, req, kind, now());
    req.log = req.log.child({ agent_id: req.agent.id });
    next();
  };
}

export function agentOf(req: Request): AgentRow {
  if (!req.agent) throw new Error('requireAgent did not run');
  return req.agent;
}

/** The endpoints canopy-node calls (bearer tokens; exempt from CSRF, they carry no cookie). */
export function nodeRoutes(deps: {
  db: Db;
  engine: StreamEngine;
  service: AgentService;
  now: () => Date;
  wsUrl: string;
  bodyLimitBytes: number;
  /** Node registrations per hour per IP. */
  registerLimit: number;
  isConnected: (agentId: string) => boolean;
  /** Until when the agent's user wants its nodes to scan for dongles fast (the Dongles page is open). */
  fastScanUntil: (userId: string) => Promise<string | null>;
  /** What ends a long poll, and the dongle requests of polling nodes. */
  mailboxes: PollMailboxes;
}) {
  const { db, engine, service, now } = deps;
  const router = Router();
  const json = express.json({ limit: deps.bodyLimitBytes });
  // A task result carries up to 1 MB of output (more in JSON escapes).
  const resultJson = express.json({ limit: '16mb' });
  const withAgentToken = requireAgent(db, 'agent', now);
  const withSession = requireAgent(db, 'session', now);

  router.post('/register', json, async (req, res) => {
    await hitAll(engine, [`rl:register:ip:${req.ip}`], deps.registerLimit, 3600_000);
    const input = parse(RegisterRequest, req.body);
    const { agent, agentToken } = await service.register(input, auditActor(req));
    req.log.info({ agent_id: agent.id, hostname: agent.hostname }, 'node registered');
    const body: RegisterResponse = { agent_id: agent.id, agent_token: agentToken, ws_url: deps.wsUrl };
    res.status(201).json(body);
  });

  router.post('/token/refresh', withAgentToken, async (req, res) => {
    const session = await service.newSessionToken(agentOf(req).id);
    const body: SessionTokenResponse = { token: session.token, expires_at: session.expiresAt.toISOString() };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.post('/heartbeat', withSession, json, async (req, res) => {
    const beat = parse(HeartbeatRequest, req.body);
    await service.touch(agentOf(req).id, {
      state: beat.state,
      uptimeS: beat.uptime_s,
      version: beat.version,
      // An older node sends no `service`: leave what is stored.
      ...(beat.service !== undefined ? { serviceKind: beat.service } : {}),
    });
    res.json({ server_time: now().toISOString() });
  });

  /**
   * Long poll: acknowledges everything up to `cursor`, then answers at once with newer messages, or waits up
   * to `wait_s` for one (woken by the hub, from any instance).
   */
  router.get('/poll', withSession, async (req, res) => {
    const { cursor, wait_s } = parse(PollQuery, req.query);
    const agentId = agentOf(req).id;
    if (!deps.isConnected(agentId)) await service.touch(agentId, { connectionType: 'poll' });
    const acked = await service.acknowledge(agentId, cursor);
    let messages = await service.messagesAfter(agentId, acked);
    // A scan request ends the wait too: a polling node hears it in the answer's fast_scan_until.
    const dongleRequests = await deps.mailboxes.poll(
      agentId,
      wait_s * 1000,
      (stop) => {
        req.once('close', stop);
        return () => req.off('close', stop);
      },
      messages.length > 0,
    );
    if (messages.length === 0) messages = await service.messagesAfter(agentId, acked);
    const body: PollResponse = {
      messages,
      cursor: messages.at(-1)?.cursor ?? acked,
      fast_scan_until: await deps.fastScanUntil(agentOf(req).userId),
      ...(dongleRequests.length > 0 ? { dongle_requests: dongleRequests } : {}),
    };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.post('/tasks/:task_id/update', withSession, resultJson, async (req, res) => {
    const update = parse(TaskUpdate, { ...req.body, task_id: parse(TaskIdParam, req.params).task_id });
    const status = await service.applyTaskUpdate(agentOf(req).id, update);
    res.json({ task_id: update.task_id, status });
  });

  router.post('/going-offline', withSession, async (req, res) => {
    await service.markOffline(agentOf(req).id);
    res.status(204).end();
  });

  return router;
}

const TaskIdParam = z.object({ task_id: z.uuid({ message: 'must be a task id (UUID)' }) });
