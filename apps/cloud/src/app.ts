import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
import { signalSealer } from './agents/signal-seal';
import { agentRoutes } from './agents/routes';
import type { Config } from './config';
import type { Database } from './db/client';
import { DongleConsole } from './dongles/console';
import { SecurityHolds } from './dongles/holds';
import { Pairing } from './dongles/pairing';
import { adminDongleRoutes, dongleNodeRoutes, dongleRoutes } from './dongles/routes';
import { DongleRpc } from './dongles/rpc';
import { DongleService } from './dongles/service';
import { DongleTokens } from './dongles/tokens';
import type { StreamEngine } from './engine';
import { healthRoutes } from './health/routes';
import type { Keyring } from './keys/keyring';
import { errorHandler, unknownRoute } from './http/errors';
import { requestContext } from './http/request-context';
import { securityHeaders } from './http/security-headers';
import { loadSession, requireCsrf } from './http/session-middleware';
import type { Logger } from './log';
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
  const dongles = new DongleService({
    db,
    engine,
    log,
    now,
    holds,
    agentIdleTimeoutMs: config.agents.idleTimeoutMs,
    askToScan: (agentId, fastUntil) => hub.signal(agentId, { kind: 'scan', fastUntil }),
  });
  const rpc = new DongleRpc({
    engine,
    send: (agentId, message) => hub.signal(agentId, { kind: 'dongle_request', message }),
  });
  const pairing = new Pairing({ db, engine, log, now, dongles, rpc, sealer: deps.keyring, holds });
  const tokens = new DongleTokens({ db, keys: deps.keyring, holds });
  const dongleConsole = new DongleConsole({ db, log, now, dongles, rpc, tokens });
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
  app.use(securityHeaders);
  app.use(healthRoutes(database, engine, deps.state));

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
  return { app, accounts, sessions, agents, gateway, mailboxes };
}
