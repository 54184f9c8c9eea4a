import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { DestinationStream } from 'pino';
import type { Accounts } from './accounts/accounts';
import type { AgentService } from './agents/agents';
import { sweepSessionTokens } from './agents/credentials';
import { AGENT_WS_PATH, type AgentGateway } from './agents/gateway';
import { rejectUpgrade } from './agents/upgrade-socket';
import { createApp } from './app';
import type { Config } from './config';
import { redactUrl } from './config';
import { startControlSocket } from './control/socket';
import { type Database, openDatabase } from './db/client';
import { sweepDongleWork } from './dongles/sweep';
import { openEngine, type StreamEngine } from './engine';
import { ApiError } from './http/errors';
import { assertKeysForStoredTokens } from './keys/check';
import { rotateKeysCommand } from './keys/control';
import { type Keyring, loadKeyring } from './keys/keyring';
import { createLogger, type Logger } from './log';
import { devSinkTransport, smtpTransport } from './mail/transports';
import { startMailWorker } from './mail/worker';
import { DATA_WS_PATH } from './relay/data-gateway';

export type RunningCloud = {
  url: string;
  accounts: Accounts;
  agents: AgentService;
  gateway: AgentGateway;
  port: number;
  log: Logger;
  database: Database;
  engine: StreamEngine;
  /** The dongle-token master keys (also in createApp's deps as `keyring`). */
  keyring: Keyring;
  /** True when the database has no account yet (first start). */
  firstRun: boolean;
  /** Sends queued mail now; tests use it instead of waiting for the worker's tick. */
  flushMail(): Promise<number>;
  close(): Promise<void>;
};

export type StartOptions = {
  logDestination?: DestinationStream;
  now?: () => Date;
  /** Tests pass ready-made dependencies (an in-memory PGlite, a prefixed Redis engine). */
  database?: Database;
  engine?: StreamEngine;
};

/** A start-up failure with a message for the operator; printed without a stack. */
export class StartupError extends Error {
  override name = 'StartupError';
}

const messageOf = (err: unknown) => {
  const e = err as { message?: string; cause?: { message?: string } };
  return e?.cause?.message ?? e?.message ?? String(err);
};

function describeDatabase(config: Config): string {
  return config.databaseUrl
    ? `PostgreSQL at ${redactUrl(config.databaseUrl)}`
    : `PGlite in ${config.dataDir}/pglite`;
}

export function openConfiguredDatabase(config: Config): Promise<Database> {
  return config.databaseUrl
    ? openDatabase({ kind: 'postgres', url: config.databaseUrl })
    : openDatabase({ kind: 'pglite', dataDir: path.join(config.dataDir, 'pglite') });
}

const LISTEN_BACKLOG = 4096;

/** Starts canopy-cloud: database (migrated), stream engine, HTTP server, mail worker, housekeeping. */
export async function startCloud(config: Config, options: StartOptions = {}): Promise<RunningCloud> {
  const log = createLogger(config.logLevel, options.logDestination);
  const now = options.now ?? (() => new Date());
  const database = options.database ?? (await openConfiguredDatabase(config));
  const closers: Array<() => Promise<void> | void> = [];
  try {
    log.info({ database: database.kind, target: describeDatabase(config) }, 'database opened');
    await database.migrate().catch((err) => {
      throw new StartupError(`Cannot migrate the database (${describeDatabase(config)}): ${messageOf(err)}`);
    });
    const keyring = loadKeyring(config, log);
    await assertKeysForStoredTokens(database.db, keyring);
    const engine =
      options.engine ??
      (await openEngine(config.redisUrl, config.redisKeyPrefix).catch((err) => {
        throw new StartupError(
          `Cannot reach Redis at ${redactUrl(config.redisUrl ?? '')}: ${messageOf(err)}`,
        );
      }));
    if (!options.engine) closers.push(() => engine.close());
    log.info({ stream_engine: engine.kind }, 'stream engine ready');

    const transport = config.smtpUrl ? smtpTransport(config.smtpUrl) : devSinkTransport(config.dataDir, log);
    const mail = startMailWorker({ db: database.db, transport, from: config.mailFrom, log, now });
    closers.push(() => mail.stop());

    const state = { ready: false };
    const { app, accounts, sessions, agents, gateway, mailboxes, relay, dataGateway, consoleStreams } =
      createApp({
        config,
        log,
        database,
        engine,
        now,
        mailQueued: mail.kick,
        state,
        keyring,
      });

    const server = http.createServer(app);
    server.headersTimeout = 20_000;
    server.requestTimeout = 60_000;
    gateway.attach(server);
    dataGateway.attach(server);
    refuseUnknownUpgrades(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // After a restart every node reconnects within a second or two. Node's default accept queue (511)
      // overflows then, and an overflowed connection waits for TCP's retransmits (1 s, 3 s, 7 s…) before
      // the cloud even sees it; the kernel caps this at net.core.somaxconn.
      server.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG }, () => resolve());
    });
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 5000).unref();
        }),
    );

    // Closers run in reverse: live node connections close (1001) before the HTTP server stops.
    closers.push(() => gateway.close());
    closers.push(() => mailboxes.close());
    closers.push(() => relay.close());
    closers.push(() => dataGateway.close());
    closers.push(async () => consoleStreams.close());

    const dongleSweeper = setInterval(() => {
      sweepDongleWork(database.db, now())
        .then((swept) => {
          if (swept.commands > 0)
            log.warn({ commands: swept.commands }, 'commands without an answer ended as errors');
        })
        .catch((err) => log.warn({ err }, 'dongle sweep failed'));
    }, 60_000);
    dongleSweeper.unref();
    closers.push(() => clearInterval(dongleSweeper));

    const sweeper = setInterval(() => {
      sessions.sweep().catch((err) => log.warn({ err }, 'session sweep failed'));
      sweepSessionTokens(database.db, now()).catch((err) => log.warn({ err }, 'agent token sweep failed'));
    }, 3600_000);
    sweeper.unref();
    closers.push(() => clearInterval(sweeper));

    if (database.kind === 'pglite') {
      const control = await startControlSocket(
        config.dataDir,
        config.publicUrl,
        accounts,
        log,
        new Map([['rotate-keys', rotateKeysCommand({ db: database.db, keyring, log, now })]]),
      );
      closers.push(() => control.close());
    }

    const { port } = server.address() as AddressInfo;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    state.ready = true;
    const firstRun = !(await accounts.hasUsers());
    log.info({ url, public_url: config.publicUrl }, 'canopy-cloud listening');

    return {
      url,
      accounts,
      agents,
      gateway,
      port,
      log,
      database,
      engine,
      keyring,
      firstRun,
      flushMail: () => mail.drain(),
      close: async () => {
        state.ready = false;
        for (const close of closers.reverse()) await close();
        if (!options.database) await database.close();
        log.info('canopy-cloud stopped');
        log.flush?.();
      },
    };
  } catch (err) {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
    if (!options.database) await database.close().catch(() => {});
    throw err;
  }
}

/** The WebSocket paths the gateways serve; an upgrade to any other gets 404 `{code, message, details}`. */
const WS_PATHS = new Set([AGENT_WS_PATH, DATA_WS_PATH]);

function refuseUnknownUpgrades(server: http.Server): void {
  server.on('upgrade', (req, socket) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!WS_PATHS.has(path)) rejectUpgrade(socket, new ApiError(404, 'NOT_FOUND', `No WebSocket at ${path}`));
  });
}
