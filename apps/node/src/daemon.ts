import os from 'node:os';
import { NodeServiceKind, type TaskMessage, type TaskUpdate } from '@canopy/protocol';
import type { Logger } from 'pino';
import { Bridge } from './bridge/bridge';
import type { DiscoveryEnv } from './cli/env';
import { type Config, fixPermissions, homePaths, readRawConfig, resolveWsUrl } from './config';
import {
  CredentialError,
  type CredentialOptions,
  KEYCHAIN_RETRY,
  KeychainUnreachableError,
  loadToken,
  waitForKeychain,
} from './credential';
import { type HealthOptions, handleCrashes, type LinkStatusLike, startHealthServer } from './health';
import { Link } from './link/link';
import { createLogger, type LogMode } from './log';
import { type MeshStatus, type RunningMesh, startMesh } from './mesh';
import { DataLink } from './relay/data-link';
import { dataWsUrl } from './relay/url';
import { acquirePidFile, fingerprint, machineId, VERSION } from './system';
import { defaultWorkspaceRoot, TaskRunner } from './tasks/runner';

/** The home has no node id or no token: the CLI says how to set up and exits with code 2. */
export class NotSetUpError extends Error {
  constructor() {
    super(
      'not set up: run canopy-node setup <KEY> with an enrollment key from the Nodes page of your Canopy cloud',
    );
    this.name = 'NotSetUpError';
  }
}

export interface DaemonOptions {
  home: string;
  config: Config;
  /** interactive: readable logs on the console too (`connect`); daemon: file logs only (services). */
  mode: LogMode;
  credential?: CredentialOptions;
  color?: boolean;
  /** What opening the config reported (permission fixes, the v1 upgrade): logged as warnings. */
  notices?: string[];
  /** Ends the process; tests replace it. */
  exit?: (code: number) => void;
  /** The environment's discovery overrides (CANOPY_DISCOVERY*, BRIDGE_AGENT_DEBUG_DISCOVERY). */
  discovery?: DiscoveryEnv;
  /** CANOPY_MESH: overrides config.mesh.enabled. */
  mesh?: boolean;
}

/** How long a clean shutdown, or a crash, waits for the link to say goodbye to the cloud. */
const SHUTDOWN_LINK_MS = 3000;
const CRASH_LINK_MS = 2000;
const TASKS_STOP_MS = 3000;
const RELAY_STOP_MS = 2000;

/** What /health reports, switched from the start-up phase to the running node's parts. */
type HealthReport = Pick<HealthOptions, 'status' | 'lastTaskAt' | 'dongles' | 'relay' | 'mesh'>;

/**
 * Runs the node until SIGTERM/SIGINT (then resolves 0 after a clean shutdown) or a crash (exit 1, so a
 * service manager restarts it). Order: token, permissions, pid file, logs, health, the keychain wait if
 * the keychain did not answer, tasks + link, mesh.
 */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  const { home, config, mode } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  if (!config.nodeId) throw new NotSetUpError();
  // A keychain that does not answer is waited for below, once the logs and /health can say so; no token,
  // or a credential file that cannot be decrypted, fails here at once.
  const first = await loadToken(home, options.credential).catch((err: unknown) => {
    if (err instanceof KeychainUnreachableError) return err;
    throw err;
  });
  if (first === null) throw new NotSetUpError();

  const paths = homePaths(home);
  const fixes = fixPermissions(home);
  for (const fix of fixes) process.stderr.write(`canopy-node: ${fix}\n`);
  const releasePid = acquirePidFile(paths.pid);
  const logger = createLogger({
    dir: paths.logs,
    level: config.logLevel,
    mode,
    maxFiles: config.logMaxFiles,
    maxSizeMb: config.logMaxSizeMb,
    color: options.color,
  });
  const log = logger.log;
  for (const notice of [...(options.notices ?? []), ...fixes]) log.warn(notice);

  const wsUrl = resolveWsUrl(config);
  const service = serviceKindFromEnv(process.env.CANOPY_NODE_SERVICE);
  log.info(
    { version: VERSION, nodeId: config.nodeId, cloudUrl: config.cloudUrl, wsUrl, mode, service },
    `canopy-node ${VERSION} starting`,
  );

  const workspaceRoot = config.tasks.workspaceRoot ?? defaultWorkspaceRoot(os.homedir());
  log.info({ workspaceRoot, policy: config.tasks.policy }, 'tasks work in the workspace folder');

  // The device mesh (spec 001), started after the health endpoint; until then and when off it says so there.
  let mesh: RunningMesh | null = null;
  let meshDown: MeshStatus = { enabled: false };
  // Until the link exists /health says the node is starting, or waiting for the keychain and why.
  const early: LinkStatusLike = { state: 'CONNECTING', wsConnected: false, reconnects: 0, since: new Date() };
  let report: HealthReport = { status: () => early, lastTaskAt: () => null };
  const health =
    config.healthPort > 0
      ? await startHealthServer({
          port: config.healthPort,
          version: VERSION,
          nodeId: config.nodeId,
          status: () => report.status(),
          lastTaskAt: () => report.lastTaskAt(),
          dongles: () => report.dongles?.(),
          relay: () => report.relay?.(),
          mesh: () => report.mesh?.(),
          log: log.child({ component: 'health' }),
        })
      : null;
  if (health) log.info({ port: health.port }, `health endpoint on http://127.0.0.1:${health.port}/health`);

  let token = first;
  if (token instanceof KeychainUnreachableError) {
    const undo = async () => {
      await health?.close().catch(() => undefined);
      logger.flush();
      logger.close();
      releasePid();
    };
    let waited: string | null;
    try {
      waited = await tokenFromKeychain(options, log, token, early);
    } catch (err) {
      log.fatal({ err }, 'canopy-node could not start');
      await undo();
      throw err;
    }
    if (waited === null) {
      log.info({ code: 0 }, 'canopy-node stopped');
      await undo();
      return 0;
    }
    token = waited;
  }

  let runner: TaskRunner | undefined;
  let bridge: Bridge | undefined;
  let dataLink: DataLink | undefined;
  const machineFingerprint = fingerprint(machineId(home), null);
  const link = new Link({
    cloudUrl: config.cloudUrl,
    wsUrl,
    agentToken: token,
    fingerprint: machineFingerprint,
    version: VERSION,
    log,
    enablePollingFallback: config.enablePollingFallback,
    heartbeatState: () => ({ uptime_s: Math.round(process.uptime()) }),
    service,
    onScanRequest: (fastUntil) => bridge?.scanFast(fastUntil),
    onDongleRequest: (message) => {
      if (!bridge) return Promise.reject(new Error('the dongle bridge is not ready yet'));
      return bridge.handle(message);
    },
    // The link acknowledges a task once handle() resolves (the task is recorded), so none is lost in a crash.
    onTask: (message: TaskMessage) => {
      if (!runner) return Promise.reject(new Error('the task runner is not ready yet'));
      return runner.handle(message);
    },
  });
  const tasks = new TaskRunner({
    home,
    workspaceRoot,
    policy: { mode: config.tasks.policy, allowlist: config.tasks.allowlist },
    log: log.child({ component: 'tasks' }),
    report: (update: TaskUpdate) => link.sendTaskUpdate(update),
  });
  runner = tasks;
  bridge = new Bridge({
    settings: {
      enabled: options.discovery?.enabled ?? config.discovery.enabled,
      interfaces: options.discovery?.interfaces ?? config.discovery.interfaces,
      port: options.discovery?.port ?? config.discovery.port,
      debug: options.discovery?.debug ?? false,
    },
    log,
    report: (report) => link.reportDongles(report),
    onFrame: (from, header, frame) => dataLink?.onFrame(from, header, frame),
  });
  const dongles = bridge;
  // The data plane (spec 002 §13.3): CAN frames of the groups this node bridges, on their own WebSocket.
  const relay = new DataLink({
    url: dataWsUrl(config.cloudUrl),
    agentToken: token,
    fingerprint: machineFingerprint,
    log,
    remp: dongles.remp,
    targetOf: (deviceId) => dongles.registry.target(deviceId),
  });
  dataLink = relay;
  link.on('welcome', () => dongles.reconnected());
  report = {
    status: () => link.status(),
    lastTaskAt: () => tasks.lastTaskAt(),
    dongles: () => dongles.status(),
    relay: () => relay.status(),
    mesh: () => mesh?.status() ?? meshDown,
  };

  // A taken port or a broken store is logged and the rest of the node runs on.
  if (options.mesh ?? config.mesh.enabled) {
    mesh = await startMesh({ home, config, log: log.child({ component: 'mesh' }) }).catch((err) => {
      log.error({ err }, `${(err as Error).message}; the node runs on without it`);
      meshDown = { enabled: false, error: (err as Error).message };
      return null;
    });
  }

  let finishing = false;
  /**
   * A clean stop lets running tasks end and report first, then says goodbye to the cloud. A crash only says
   * goodbye (at most CRASH_LINK_MS): an interrupted task is reported as such at the next start.
   */
  const finish = async (code: number) => {
    if (finishing) return;
    finishing = true;
    if (code === 0) {
      await bounded(() => tasks.close(), TASKS_STOP_MS).catch((err) =>
        log.warn({ err }, 'the task runner did not stop cleanly'),
      );
    }
    await bounded(() => relay.stop(), RELAY_STOP_MS).catch((err) =>
      log.warn({ err }, 'the data link did not stop cleanly'),
    );
    await dongles.stop().catch((err) => log.warn({ err }, 'the dongle bridge did not stop cleanly'));
    await bounded(
      () => link.stop(code === 0 ? 'shutdown' : 'crash'),
      code === 0 ? SHUTDOWN_LINK_MS : CRASH_LINK_MS,
    ).catch((err) => log.warn({ err }, 'the link did not stop cleanly'));
    await health?.close().catch(() => undefined);
    await mesh?.stop().catch((err) => log.warn({ err }, 'the device mesh did not stop cleanly'));
    log.info({ code }, code === 0 ? 'canopy-node stopped' : 'canopy-node exiting after a crash');
    logger.flush();
    logger.close();
    releasePid();
    removeHandlers();
  };

  // spec 000 §4: a crash exits 1 so the service manager restarts a clean process.
  const removeCrashHandlers = handleCrashes({
    log,
    flush: () => logger.flush(),
    shutdown: () => finish(1),
    exit,
  });
  let resolveStopped: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => {
    resolveStopped = resolve;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (finishing) {
      log.warn({ signal }, 'second signal: exiting now');
      logger.flush();
      exit(1);
      return;
    }
    log.info({ signal }, 'shutting down');
    void finish(0).then(() => resolveStopped(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const removeHandlers = () => {
    removeCrashHandlers();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };

  try {
    await tasks.start();
    link.start();
    // Without discovery the node still runs tasks; the log says why dongles stay unseen.
    await dongles.start().catch((err) => log.error({ err }, 'dongle discovery could not start'));
    // No dongles, no data plane: the data link runs only beside a running bridge.
    if (dongles.running) relay.start();
  } catch (err) {
    log.fatal({ err }, 'canopy-node could not start');
    await finish(1);
    throw err;
  }
  return stopped;
}

/**
 * The token from an OS keychain that the first read could not reach: on Linux at boot with lingering there
 * is no session bus yet, or the keyring stays locked until the user logs in. Waiting beats exiting, since a
 * service manager gives up restarting long before anyone logs in. `shown` is what /health reports meanwhile.
 * Resolves null when SIGTERM/SIGINT ends the wait.
 */
async function tokenFromKeychain(
  options: DaemonOptions,
  log: Logger,
  first: KeychainUnreachableError,
  shown: LinkStatusLike,
): Promise<string | null> {
  const startedAt = Date.now();
  const firstS = KEYCHAIN_RETRY.firstMs / 1000;
  const maxS = KEYCHAIN_RETRY.maxMs / 1000;
  Object.assign(shown, {
    state: 'WAITING',
    reason:
      'waiting for the OS keychain, which holds the agent token: log in to this machine or unlock the keychain, or keep the token in an encrypted file (CANOPY_NODE_CREDENTIAL_STORE=file canopy-node setup <KEY>)',
    lastError: first.detail,
    since: new Date(startedAt),
  });
  log.warn(
    { keychain: first.detail },
    `the OS keychain, which holds the agent token, cannot be reached (${first.detail}): canopy-node waits and starts by itself once you log in to this machine or unlock the keychain (it tries again after ${firstS} s, then at growing intervals of up to ${maxS} s); to start without anyone logged in, keep the token in an encrypted file instead: CANOPY_NODE_CREDENTIAL_STORE=file canopy-node setup <KEY>`,
  );
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'shutting down while waiting for the OS keychain');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let token: string | null;
  try {
    token = await waitForKeychain(options.home, options.credential, {
      signal: stop.signal,
      onRetry: (err, nextInMs) => {
        shown.lastError = err.detail;
        log.debug(
          { keychain: err.detail },
          `the OS keychain still cannot be reached; next try in ${nextInMs / 1000} s`,
        );
      },
    });
  } catch (err) {
    if (stop.signal.aborted) return null;
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // The keychain answers, but the token is gone from it.
  if (token === null) throw new NotSetUpError();
  // `canopy-node setup` ran meanwhile (the way out the warning names): this config is another node's.
  if (readRawConfig(options.home)?.nodeId !== options.config.nodeId) {
    throw new CredentialError(
      'canopy-node was set up again while it waited for the OS keychain: exiting, so that it starts again with the new registration',
    );
  }
  log.info(
    { waitedS: Math.round((Date.now() - startedAt) / 1000) },
    'the OS keychain answers and holds the agent token: starting',
  );
  return token;
}

/** Waits for `op` at most `ms`; a slow goodbye must not keep a stopping process alive. */
async function bounded(op: () => unknown, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(op),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** CANOPY_NODE_SERVICE as the unit, plist or Windows service sets it; anything else counts as none. */
function serviceKindFromEnv(value: string | undefined): NodeServiceKind | null {
  const parsed = NodeServiceKind.safeParse(value);
  return parsed.success ? parsed.data : null;
}
