import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUPS_CHANGED_CHANNEL } from '@canopy/protocol';
import { frameReader } from '@canopy/protocol/relay';
import express from 'express';
import { Accounts } from './accounts/accounts';
import { authRoutes } from './accounts/routes';
import { SessionStore } from './accounts/sessions';
import { adminRoutes } from './admin/routes';
import { AgentService } from './agents/agents';
import { AgentGateway } from './agents/gateway';
import { AgentHub } from './agents/hub';
import { agentOf, nodeRoutes, requireAgent } from './agents/node-routes';
import { PollMailboxes } from './agents/poll-mailbox';
import { agentRoutes } from './agents/routes';
import { signalSealer } from './agents/signal-seal';
import { writeAudit } from './audit/writer';
import type { Config } from './config';
import type { Database } from './db/client';
import { DongleConsole } from './dongles/console';
import { SecurityHolds, SYSTEM_ACTOR } from './dongles/holds';
import { Pairing } from './dongles/pairing';
import { adminDongleRoutes, dongleNodeRoutes, dongleRoutes } from './dongles/routes';
import { DongleRpc } from './dongles/rpc';
import { DongleService } from './dongles/service';
import { DongleTokens } from './dongles/tokens';
import type { StreamEngine } from './engine';
import { groupRoutes } from './groups/routes';
import { GroupService } from './groups/service';
import { healthRoutes } from './health/routes';
import { ApiError, errorHandler, unknownRoute } from './http/errors';
import { requestContext } from './http/request-context';
import { securityHeaders } from './http/security-headers';
import { loadSession, requireCsrf } from './http/session-middleware';
import type { Keyring } from './keys/keyring';
import type { Logger } from './log';
import { HttpMetrics } from './metrics/http-metrics';
import { metricsRoutes } from './metrics/routes';
import { DataGateway } from './relay/data-gateway';
import { Relay } from './relay/relay';
import { relayRoutes } from './relay/routes';
import { trimNotice } from './relay/trim-notice';
import { consoleAccess } from './streams/access';
import { ConsoleStreams } from './streams/console-streams';
import { canFrameEvent } from './streams/frames';
import { consoleStreamKey } from './streams/keys';
import { consoleRoutes } from './streams/routes';
import { VERSION } from './version';
import { downloadRoutes } from './web/downloads';
import { findWebDist, webRoutes } from './web/static';

export type AppDeps = {
  config: Config;
  log: Logger;
  database: Database;
  engine: StreamEngine;
  now: () => Date;
  mailQueued: () => void;
  state: { ready: boolean };
  /** The dongle-token master keys (src/keys): tokens sealed at rest, dongle requests sealed between instances. */
  keyring: Keyring;
};

/** The accounts domain on a database; shared by the server and the CLI. */
export function createAccounts(
  config: Config,
  db: Database['db'],
  engine: StreamEngine,
  now: () => Date,
  mailQueued: () => void = () => {},
) {
  const sessions = new SessionStore(db, config.sessionTtlMs, now);
  const accounts = new Accounts({
    db,
    engine,
    sessions,
    publicUrl: config.publicUrl,
    rateLimits: config.rateLimits,
    now,
    mailQueued,
  });
  return { accounts, sessions };
}

/** The Express application and the agent gateway: wiring of the domains; no listening. */
export function createApp(deps: AppDeps) {
  const { config, log, database, engine, now } = deps;
  const db = database.db;
  const { accounts, sessions } = createAccounts(config, db, engine, now, deps.mailQueued);
  const hub = new AgentHub(engine, signalSealer(deps.keyring));
  const mailboxes = new PollMailboxes(hub);
  const agents = new AgentService({
    db,
    hub,
    now,
    sessionTtlMs: config.agents.sessionTtlMs,
    idleTimeoutMs: config.agents.idleTimeoutMs,
    queueMax: config.agents.queueMax,
  });
  const holds = new SecurityHolds({ db, engine, log, now });
  // The live console (SSE): its streams are the ring buffer every instance shares through the engine.
  const consoleStreams = new ConsoleStreams({ engine, log, now: () => now().getTime() });
  const groupsOf: { current?: GroupService } = {};
  const dongles = new DongleService({
    db,
    engine,
    log,
    now,
    holds,
    consoleStreams,
    groupOf: async (dongleId) => (await groupsOf.current?.groupOfDongle(dongleId))?.id ?? null,
    agentIdleTimeoutMs: config.agents.idleTimeoutMs,
    askToScan: (agentId, fastUntil) => hub.signal(agentId, { kind: 'scan', fastUntil }),
  });
  const rpc = new DongleRpc({
    engine,
    send: (agentId, message) => hub.signal(agentId, { kind: 'dongle_request', message }),
  });
  const relayOf: { current?: Relay } = {};
  const groups = new GroupService({
    db,
    engine,
    log,
    now,
    dongles,
    bufferOf: async (groupId) =>
      relayOf.current ? relayOf.current.buffer(groupId) : { a_to_b: 0, b_to_a: 0, pressure: false },
  });
  groupsOf.current = groups;
  const pairing = new Pairing({ db, engine, log, now, dongles, rpc, sealer: deps.keyring, holds, groups });
  const tokens = new DongleTokens({ db, keys: deps.keyring, holds });
  const dongleConsole = new DongleConsole({ db, log, now, dongles, rpc, tokens, consoleStreams });
  // One listing of a user's dongles serves every group side of that user for a second (the relay asks often).
  const routers = new Map<string, { at: number; router: ReturnType<DongleService['router']> }>();
  const routerOf = (userId: string) => {
    const hit = routers.get(userId);
    if (hit && Date.now() - hit.at < 1000) return hit.router;
    const router = dongles.router(userId);
    routers.set(userId, { at: Date.now(), router });
    router.catch(() => routers.delete(userId));
    if (routers.size > 10_000) routers.clear();
    return router;
  };
  // The CAN relay (spec 002 §13.3): the data plane's gateway and the buffer per group direction.
  const relay = new Relay({
    engine,
    log,
    now: () => now().getTime(),
    groups: {
      bridged: () => groups.bridged(),
      setMode: (groupId, mode, reason) => groups.setMode(groupId, mode, reason),
    },
    dongles: {
      route: async (userId, dongleId, prefer) => {
        const agentId = (await routerOf(userId))(dongleId, prefer);
        if (!agentId)
          throw new ApiError(409, 'AGENT_OFFLINE', 'None of your nodes hears this dongle right now');
        return { agentId, token: async () => tokens.forAgent(await dongles.row(dongleId), agentId) };
      },
      rejected: (dongleId, givenAt) => dongleConsole.relayTokenRejected(dongleId, givenAt),
    },
    audit: (groupId, details) => {
      // The people watching the group hear of it too, not only the admins reading the audit log.
      consoleStreams.notify(consoleStreamKey('group', groupId), 'log', trimNotice(details));
      return writeAudit(db, SYSTEM_ACTOR, {
        action: 'relay.buffer_trimmed',
        targetType: 'group',
        targetId: groupId,
        details,
      });
    },
    onFrames: (groupId, dongles, _from, message) => {
      // The live console, sampled there: only the frames it keeps are read out of the message. The data
      // plane itself is never sampled.
      const reader = frameReader(message);
      const events = (dongleId: string, direction: 'rx' | 'tx') => (i: number) =>
        canFrameEvent(reader.frame(i), { dongleId, direction, groupId });
      Promise.all([
        consoleStreams.emitFrameBatch(
          [consoleStreamKey('dongle', dongles.from), consoleStreamKey('group', groupId)],
          reader.count,
          events(dongles.from, 'rx'),
        ),
        dongles.to
          ? consoleStreams.emitFrameBatch(
              [consoleStreamKey('dongle', dongles.to)],
              reader.count,
              events(dongles.to, 'tx'),
            )
          : undefined,
      ]).catch((err) => log.warn({ err, group_id: groupId }, 'could not show frames in the live console'));
    },
    onGroupState: (state) =>
      consoleStreams.notify(consoleStreamKey('group', state.group_id), 'group_state', state),
    replayRate: config.relay.replayRate,
    maxFrames: config.relay.maxFrames,
    maxAgeMs: config.relay.maxAgeMs,
  });
  relayOf.current = relay;
  engine
    .subscribe(GROUPS_CHANGED_CHANNEL, (message) => {
      void relay.reconcile();
      // A deactivated group is no longer bridged: its console hears so here (the relay speaks of the others).
      let groupId: string | undefined;
      try {
        groupId = (JSON.parse(message) as { group_id?: string }).group_id;
      } catch {
        return;
      }
      if (!groupId) return;
      void groups
        .runtime(groupId)
        .then(async (g) => {
          if (g?.mode !== 'inactive') return;
          const buffer = await relay.buffer(groupId);
          consoleStreams.notify(consoleStreamKey('group', groupId), 'group_state', {
            group_id: groupId,
            mode: 'inactive',
            offline_side: null,
            offline_sides: [],
            buffered_frames_a_to_b: buffer.a_to_b,
            buffered_frames_b_to_a: buffer.b_to_a,
            pressure: buffer.pressure,
          });
        })
        .catch((err) => log.warn({ err, group_id: groupId }, 'could not tell a group console its state'));
    })
    .catch((err) =>
      // An engine closed or unreachable at start-up: the 2 s reconcile still picks group changes up.
      log.warn(
        { err: String(err) },
        'could not listen for group changes; the relay checks every 2 s instead',
      ),
    );
  const dataGateway = new DataGateway({
    db,
    relay,
    hub,
    log,
    now,
    pingIntervalMs: config.agents.pingIntervalMs,
    idleTimeoutMs: config.agents.idleTimeoutMs,
  });
  const gateway = new AgentGateway({
    db,
    service: agents,
    hub,
    log,
    now,
    pingIntervalMs: config.agents.pingIntervalMs,
    idleTimeoutMs: config.agents.idleTimeoutMs,
    handshakeConcurrency: config.agents.handshakeConcurrency,
    handshakeQueueMax: config.agents.handshakeQueueMax,
    onDongleReport: async (agent, report) => {
      await dongles.report(agent, report);
    },
    onDongleResponse: (agentId, message) => rpc.answer(agentId, message),
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(requestContext(log));
  const httpMetrics = new HttpMetrics();
  app.use(httpMetrics.middleware());
  app.use(securityHeaders);
  app.use(healthRoutes(database, engine, deps.state));
  app.use(
    metricsRoutes({
      http: httpMetrics,
      token: config.metricsToken,
      sources: {
        version: VERSION,
        connectedNodes: () => gateway.connectedCount,
        relay: () => relay.counters,
        sse: () => consoleStreams.stats(),
        bufferDepth: async (limit) => {
          const bridged = await groups.bridged();
          const counted = bridged.slice(0, limit);
          const buffers = await Promise.all(counted.map((g) => relay.buffer(g.id)));
          return {
            a_to_b: buffers.reduce((n, b) => n + b.a_to_b, 0),
            b_to_a: buffers.reduce((n, b) => n + b.b_to_a, 0),
            groups: counted.length,
            truncated: bridged.length > counted.length,
          };
        },
      },
    }),
  );

  const api = express.Router();
  // Node endpoints first: they authenticate with bearer tokens or an enrollment key, never cookies, so
  // browser sessions and CSRF do not apply to them.
  api.use(
    '/agents',
    nodeRoutes({
      db,
      engine,
      service: agents,
      now,
      wsUrl: config.agents.wsUrl,
      mailboxes,
      bodyLimitBytes: config.bodyLimitBytes,
      registerLimit: config.rateLimits.register,
      isConnected: (id) => gateway.isConnected(id),
      fastScanUntil: (userId) => dongles.fastScanUntil(userId),
    }),
  );
  api.use(
    '/agents',
    dongleNodeRoutes(
      dongles,
      requireAgent(db, 'session', now),
      agentOf,
      config.bodyLimitBytes,
      (agentId, m) => rpc.answer(agentId, m),
    ),
  );
  api.use(loadSession(sessions, config.publicUrl));
  api.use(requireCsrf);
  api.use(express.json({ limit: config.bodyLimitBytes }));
  api.use('/auth', authRoutes(accounts, sessions, config.publicUrl, config.sessionTtlMs));
  api.use('/agents', agentRoutes(db, agents, now));
  api.use('/dongles', dongleRoutes(dongles, pairing, dongleConsole));
  // A group's console is visible to whoever may see the group (its owner, a super_admin).
  api.use(
    '/streams',
    consoleRoutes({
      streams: consoleStreams,
      sessionUser: (sessionId) => sessions.current(sessionId),
      ...consoleAccess(dongles, {
        authorize: (user, id) => groups.authorize(user, id),
        dongles: async (user, id) => {
          const group = await groups.get(user, id);
          return [group.a.dongle_id, group.b.dongle_id];
        },
      }),
    }),
  );
  api.use('/groups', groupRoutes(groups));
  api.use('/groups', relayRoutes({ db, groups, relay, now, console: consoleStreams }));
  api.use('/admin', adminDongleRoutes(dongles, pairing));
  api.use('/admin', adminRoutes(db, accounts));
  api.use(unknownRoute);
  app.use('/api/v1', api);
  app.use('/api', unknownRoute);

  const here = path.dirname(fileURLToPath(import.meta.url));
  app.use(downloadRoutes(here));
  app.use(webRoutes(findWebDist(here)));
  app.use(unknownRoute);
  app.use(errorHandler);
  return { app, accounts, sessions, agents, gateway, mailboxes, consoleStreams, relay, dataGateway };
}
