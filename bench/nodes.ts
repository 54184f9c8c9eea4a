// N simulated nodes against a real canopy-cloud process: `node --import tsx bench/nodes.ts --help`.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { AttemptLimiter, BACKOFF_CAP_MS, backoffDelay, CAP_ATTEMPT } from '../apps/node/src/link/backoff';
import { systemClock } from '../apps/node/src/link/clock';
import { HANDSHAKE_TIMEOUT_MS, WELCOME_TIMEOUT_MS } from '../apps/node/src/link/link';
import { PROBE_INTERVAL_MS, PROBE_WINDOW_MS, ReturnProbe } from '../apps/node/src/link/probe';
import { ATTEMPT_HEADER, attemptStamp, FINGERPRINT_HEADER } from '../packages/protocol/src/agents';
import {
  type Child,
  type Cleanup,
  clockTicksPerSecond,
  cloudEnv,
  cpuTicks,
  createPostgresDatabase,
  createRedisPrefix,
  DashboardClient,
  ensureBuilt,
  fmt,
  freePort,
  Inspector,
  intOption,
  NODE_BIN,
  openFilesLimit,
  percentile,
  printMachine,
  round1,
  rssKiB,
  runBenchmark,
  type Server,
  sleep,
  spawnNode,
  spawnServer,
  stopChild,
  stopServer,
  Tail,
  waitHealthy,
} from './common';

const HELP = `Usage: node --import tsx bench/nodes.ts [options]   (or: npm run bench:nodes -- [options])

Starts canopy-cloud on 127.0.0.1 and simulates N nodes in this one process, each a raw WebSocket client of
/ws/agent speaking the real protocol (welcome, 30 s heartbeats over HTTP, pongs, close codes). Measures the
cloud's memory per connected node and CPU while they heartbeat, then SIGKILLs the cloud, restarts it and times
the reconnect storm (the nodes use canopy-node's own backoff and return probe), then the idle RSS of one real
canopy-node daemon. Everything stays on 127.0.0.1. Exits 1 on any error.

  --backend embedded|postgres  embedded: PGlite + in-process engine (default). postgres: a fresh database
                               canopy_bench_<random> through DATABASE_URL (default
                               postgres://postgres@127.0.0.1:5432/test, dropped afterwards) and Redis at
                               REDIS_URL (default redis://127.0.0.1:6379) with REDIS_KEY_PREFIX
                               canopy-bench-<random>: (its keys are deleted afterwards)
  --nodes N                    simulated nodes (default 2000, max 10000 and within \`ulimit -n\`)
  --settle-s S                 measured window with all N connected and heartbeating (default 60, max 600)
  --register-concurrency C     concurrent POST /agents/register (default 20, max 100)
  --connect-concurrency C      concurrent first connections (default 50, max 1000)
  --storm-timeout-s S          bound on the wait for all N to reconnect after the restart (default 180)
  --daemon-idle-s S            idle time of the real canopy-node daemon before its RSS is read (default 30)
  --no-daemon                  skip the real canopy-node daemon step
  --no-probe                   reconnect with the backoff alone, without canopy-node's return probe (GET
                               /readyz about once a second in the first 30 s of an outage)
`;

/** The node's own timings (apps/node/src/link/link.ts). */
const HEARTBEAT_INTERVAL_MS = 30_000;
const REQUEST_TIMEOUT_MS = 30_000;
const WARMUP_NODES = 20;
/** Heartbeats slower than this are listed by when they happened (to see bursts). */
const SLOW_HEARTBEAT_MS = 250;
/** After the storm, all N must stay connected this long to count as recovered. */
const STABLE_MS = 15_000;
/** Everything stops after this long, whatever happens (the default run takes about 4 minutes). */
const OVERALL_LIMIT_MS = 25 * 60_000;
const GOALS = { kibPerNode: 20, stormS: 70, daemonMiB: 60 };

type Options = {
  backend: 'embedded' | 'postgres';
  nodes: number;
  settleS: number;
  registerConcurrency: number;
  connectConcurrency: number;
  stormTimeoutS: number;
  daemonIdleS: number;
  daemon: boolean;
  probe: boolean;
};

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      backend: { type: 'string' },
      nodes: { type: 'string' },
      'settle-s': { type: 'string' },
      'register-concurrency': { type: 'string' },
      'connect-concurrency': { type: 'string' },
      'storm-timeout-s': { type: 'string' },
      'daemon-idle-s': { type: 'string' },
      'no-daemon': { type: 'boolean' },
      'no-probe': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const backend = values.backend ?? 'embedded';
  if (backend !== 'embedded' && backend !== 'postgres') {
    throw new Error(`--backend must be embedded or postgres (got "${backend}")`);
  }
  return {
    backend,
    nodes: intOption(values.nodes, 'nodes', 2000, 10_000),
    settleS: intOption(values['settle-s'], 'settle-s', 60, 600),
    registerConcurrency: intOption(values['register-concurrency'], 'register-concurrency', 20, 100),
    connectConcurrency: intOption(values['connect-concurrency'], 'connect-concurrency', 50, 1000),
    stormTimeoutS: intOption(values['storm-timeout-s'], 'storm-timeout-s', 180, 600),
    daemonIdleS: intOption(values['daemon-idle-s'], 'daemon-idle-s', 30, 300),
    daemon: !values['no-daemon'],
    probe: !values['no-probe'],
  };
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers

/** Counts by kind, keeping the first example of each. */
class Counter {
  readonly map = new Map<string, { count: number; sample: string }>();
  add(kind: string, sample = ''): void {
    const entry = this.map.get(kind);
    if (entry) entry.count += 1;
    else this.map.set(kind, { count: 1, sample });
  }
  get total(): number {
    let n = 0;
    for (const { count } of this.map.values()) n += count;
    return n;
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.map].map(([kind, { count }]) => [kind, count]));
  }
  print(label: string, sampleChars = 200): void {
    for (const [kind, { count, sample }] of this.map) {
      const example = sample ? ` (e.g. ${sample.replace(/\s+/g, ' ').slice(0, sampleChars)})` : '';
      console.log(`  ${label}: ${count} × ${kind}${example}`);
    }
  }
}

function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}
const msStats = (values: number[]) => {
  const s = stats(values);
  return { n: s.n, p50_ms: round1(s.p50), p99_ms: round1(s.p99), max_ms: round1(s.max) };
};
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / (values.length || Number.NaN);
const loadavg = () => os.loadavg().map(round1).join(' / ');
const errText = (err: unknown): string => {
  const e = err as { message?: string; cause?: { message?: string; code?: string } };
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
};

/** Groups ascending-or-not times (ms) into bursts separated by gaps of more than `gapMs`. */
function bursts(times: number[], gapMs = 2000): Array<{ start: number; end: number; n: number }> {
  const out: Array<{ start: number; end: number; n: number }> = [];
  for (const t of [...times].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && t - last.end <= gapMs) {
      last.end = t;
      last.n += 1;
    } else {
      out.push({ start: t, end: t, n: 1 });
    }
  }
  return out;
}

/** Polls `check` every `intervalMs` until it is true; throws after `timeoutMs` or when stopped. */
async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stop: AbortSignal,
  intervalMs = 100,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (stop.aborted) throw new Error('interrupted');
    if (performance.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Runs `work(i)` for i in [0, n) from `concurrency` workers. */
async function pool(n: number, concurrency: number, stop: AbortSignal, work: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n && !stop.aborted) await work(next++);
    }),
  );
  if (stop.aborted) throw new Error('interrupted');
}

// ---------------------------------------------------------------------------------------------------------
// The cloud's log: warnings and errors (LOG_LEVEL=warn, pino JSON lines) counted by message

const LEVELS: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };

class CloudLog {
  readonly lines = new Counter();
  private partial = '';
  phase = 'start';

  private reported = false;

  /** Prints the warnings and errors once (the success path, or the cleanup after a failure). */
  report(): void {
    if (this.reported) return;
    this.reported = true;
    if (this.lines.total > 0) {
      console.log('cloud log (warn and above, by phase and message):');
      this.lines.print('cloud', 700);
    } else {
      console.log('cloud log:   no warnings or errors');
    }
  }

  attach(server: Server): void {
    const take = (chunk: Buffer) => {
      const text = this.partial + chunk.toString();
      const lines = text.split('\n');
      this.partial = (lines.pop() ?? '').slice(-65_536);
      for (const line of lines) this.line(line);
    };
    server.child.stdout?.on('data', take);
    server.child.stderr?.on('data', take);
  }

  private line(line: string): void {
    if (!line.trim()) return;
    let entry: { level?: number; msg?: string; err?: unknown; code?: unknown } | undefined;
    try {
      entry = JSON.parse(line);
    } catch {
      // The start-up banner is plain text; anything else plain that sounds wrong is counted.
      if (/error|fail|warn|exception/i.test(line)) this.lines.add(`[${this.phase}] plain output`, line);
      return;
    }
    const level = LEVELS[entry?.level ?? 0];
    if (!level) return;
    const detail = entry?.code ? ` (${String(entry.code)})` : '';
    this.lines.add(`[${this.phase}] ${level}: ${entry?.msg ?? '?'}${detail}`, line.slice(0, 1000));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Cloud API (dashboard side: cookies + CSRF)

// ---------------------------------------------------------------------------------------------------------
// The simulated nodes

type Sim = {
  i: number;
  hostname: string;
  fingerprint: string;
  agentId: string;
  agentToken: string;
  ws: WebSocket | null;
  session: string | null;
  welcomed: boolean;
  /** Failed attempts since the last welcome (canopy-node's consecutiveFailures). */
  failures: number;
  /** Closed with 4000: canopy-node retries only at the backoff cap until the next welcome. */
  replaced: boolean;
  limiter: AttemptLimiter;
  retryTimer: NodeJS.Timeout | null;
  heartbeatTimer: NodeJS.Timeout | null;
  /** Set when the node must not reconnect (the benchmark closes it, or the cloud revoked it). */
  stopped: boolean;
  startedAt: number;
  lastWelcomeAt: number;
  /** WebSocket attempts since the counter was last reset (the storm resets it). */
  attempts: number;
  /** Attempts that ended in a handshake timeout since the same reset. */
  handshakeTimeouts: number;
  /** performance.now() of the next heartbeat slot. */
  nextBeatAt: number;
  /** canopy-node's own ReturnProbe (apps/node/src/link/probe.ts), or null with --no-probe. */
  probe: ReturnProbe | null;
};

type PhaseName = 'warm-up' | 'connect' | 'settle' | 'down' | 'storm' | 'after' | 'closing';

type PhaseStats = {
  /** Failed WebSocket attempts by kind (socket error code, HTTP status of a refused upgrade, timeouts). */
  attemptErrors: Counter;
  /** Closes of welcomed connections by code. */
  closes: Counter;
  /** Anything else that went wrong (unexpected frames, …). */
  other: Counter;
  heartbeatErrors: Counter;
  heartbeatMs: number[];
  /** Heartbeats not sent because the node had no welcomed connection at that moment. */
  heartbeatsSkipped: number;
  /** From the start of an attempt to its welcome. */
  connectMs: number[];
  /** GET /readyz of the return probe, by outcome. */
  probes: Counter;
  /** Attempts started because the probe saw the cloud answer (instead of at the backoff step). */
  probeAttempts: number;
};

const newPhase = (): PhaseStats => ({
  attemptErrors: new Counter(),
  closes: new Counter(),
  other: new Counter(),
  heartbeatErrors: new Counter(),
  heartbeatMs: [],
  heartbeatsSkipped: 0,
  connectMs: [],
  probes: new Counter(),
  probeAttempts: 0,
});

class Herd {
  phase: PhaseName = 'warm-up';
  readonly phases = new Map<PhaseName, PhaseStats>();
  heartbeatsOn = false;
  /** Heartbeat slots: node i beats at epoch + i/N · 30 s + k · 30 s, so beats arrive evenly. */
  epoch = performance.now();
  connected = 0;
  /** Since when all N have been connected (null: not all are). */
  fullSince: number | null = null;
  /** Welcomed connections the cloud closed with 4000 (replaced): when, and which node. */
  readonly replacedCloses: Array<{ at: number; i: number; hadTimeout: boolean }> = [];
  /** Start times of heartbeats that took longer than SLOW_HEARTBEAT_MS. */
  readonly slowBeats: Array<{ at: number; ms: number }> = [];

  constructor(
    readonly sims: Sim[],
    private readonly wsUrl: string,
    private readonly httpBase: string,
    withProbe: boolean,
  ) {
    if (withProbe) for (const sim of sims) sim.probe = this.newProbe(sim);
  }

  /** The node's ReturnProbe with its real timings; its fetch is counted, its onUp is Link.cloudIsBack. */
  private newProbe(sim: Sim): ReturnProbe {
    const counted: typeof fetch = async (input, init) => {
      const phase = this.stats();
      try {
        const res = await fetch(input, init);
        phase.probes.add(`HTTP ${res.status}`);
        return res;
      } catch (err) {
        phase.probes.add(`network error ${errText(err)}`);
        throw err;
      }
    };
    return new ReturnProbe({
      clock: systemClock,
      random: Math.random,
      readyUrl: `${this.httpBase}/readyz`,
      fetch: counted,
      onUp: () => {
        // Link.cloudIsBack: attempt now if still reconnecting and the attempt limiter allows it.
        if (sim.stopped || sim.ws || sim.welcomed) return;
        if (sim.limiter.waitMs(Date.now()) > 0) return;
        if (sim.retryTimer) clearTimeout(sim.retryTimer);
        sim.retryTimer = null;
        this.stats().probeAttempts += 1;
        void this.attempt(sim);
      },
    });
  }

  stats(phase: PhaseName = this.phase): PhaseStats {
    let s = this.phases.get(phase);
    if (!s) {
      s = newPhase();
      this.phases.set(phase, s);
    }
    return s;
  }

  /** One WebSocket attempt, like canopy-node's AgentSocket; resolves true on welcome, false on failure. */
  attempt(sim: Sim): Promise<boolean> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (ok: boolean) => {
        if (!settled) {
          settled = true;
          resolve(ok);
        }
      };
      sim.limiter.record(Date.now());
      sim.attempts += 1;
      const started = performance.now();
      const ws = new WebSocket(this.wsUrl, {
        headers: {
          authorization: `Bearer ${sim.agentToken}`,
          [FINGERPRINT_HEADER]: sim.fingerprint,
          [ATTEMPT_HEADER]: String(attemptStamp()),
        },
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        followRedirects: false,
      });
      sim.ws = ws;
      sim.welcomed = false;
      let failure: string | null = null;
      let failureSample = '';
      let refusedFor: string | null = null;
      let refused = false;
      let wasOpen = false;
      let endedByUs = false;
      let welcomeTimer: NodeJS.Timeout | undefined;

      ws.on('unexpected-response', (req, res) => {
        const status = res.statusCode ?? 0;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 4096) body += chunk;
        });
        let done = false;
        const end = () => {
          if (done) return;
          done = true;
          let code = '';
          try {
            code = String((JSON.parse(body) as { code?: string }).code ?? '');
          } catch {}
          refused = true;
          failure = `upgrade refused: HTTP ${status}${code ? ` ${code}` : ''}`;
          failureSample = body;
          refusedFor = code;
          req.destroy();
          ws.terminate();
        };
        res.on('end', end);
        res.on('error', end);
        res.on('aborted', end);
        setTimeout(end, HANDSHAKE_TIMEOUT_MS).unref();
      });
      ws.on('open', () => {
        wasOpen = true;
        welcomeTimer = setTimeout(() => {
          endedByUs = true;
          failure = `no welcome within ${WELCOME_TIMEOUT_MS / 1000} s of the upgrade`;
          ws.terminate();
        }, WELCOME_TIMEOUT_MS);
      });
      ws.on('message', (data, isBinary) => {
        let message: { type?: string; token?: string } | undefined;
        try {
          message = isBinary ? undefined : JSON.parse(data.toString());
        } catch {}
        if (message?.type === 'welcome' && !sim.welcomed && typeof message.token === 'string') {
          clearTimeout(welcomeTimer);
          sim.welcomed = true;
          sim.session = message.token;
          sim.failures = 0;
          sim.replaced = false;
          sim.probe?.reset();
          sim.lastWelcomeAt = performance.now();
          this.connected += 1;
          if (this.connected === this.sims.length) this.fullSince = performance.now();
          this.stats().connectMs.push(sim.lastWelcomeAt - started);
          if (this.heartbeatsOn) this.startHeartbeats(sim);
          finish(true);
        } else {
          this.stats().other.add(`unexpected frame ${message?.type ?? '(not JSON)'}`, data.toString());
        }
      });
      ws.on('error', (err: Error & { code?: string }) => {
        if (failure) return;
        failure = /handshake has timed out/i.test(err.message)
          ? `WebSocket handshake timeout (${HANDSHAKE_TIMEOUT_MS / 1000} s)`
          : err.code
            ? `socket error ${err.code}`
            : `socket error: ${err.message}`;
        failureSample = err.message;
      });
      ws.on('close', (code, reasonBuffer) => {
        clearTimeout(welcomeTimer);
        if (sim.ws === ws) sim.ws = null;
        const wasWelcomed = sim.welcomed;
        sim.welcomed = false;
        const reason = reasonBuffer.toString();
        if (wasWelcomed) {
          this.connected -= 1;
          this.fullSince = null;
          this.stats().closes.add(`close ${code}${reason ? ` ${reason}` : ''}`);
          if (code === 4000) {
            this.replacedCloses.push({
              at: performance.now(),
              i: sim.i,
              hadTimeout: sim.handshakeTimeouts > 0,
            });
          }
        } else {
          if (failure?.startsWith('WebSocket handshake timeout')) sim.handshakeTimeouts += 1;
          this.stats().attemptErrors.add(failure ?? `closed ${code} before the welcome`, failureSample);
        }
        finish(false);
        if (sim.stopped) return;
        // canopy-node's reaction (apps/node/src/link/state-machine.ts, link.ts).
        if (
          code === 4003 ||
          refusedFor === 'AGENT_TOKEN_INVALID' ||
          refusedFor === 'AGENT_FINGERPRINT_MISMATCH'
        ) {
          sim.stopped = true;
          this.stats().other.add('node needs re-enrollment (4003 or refused credential): it stops');
          return;
        }
        if (wasWelcomed) {
          sim.failures = 0;
          sim.replaced = code === 4000;
        } else {
          sim.failures += 1;
          sim.replaced ||= code === 4000;
        }
        const backoff = backoffDelay(sim.replaced ? CAP_ATTEMPT : sim.failures + 1);
        const delay = Math.max(backoff, sim.limiter.waitMs(Date.now()));
        sim.retryTimer = setTimeout(() => {
          sim.retryTimer = null;
          if (!sim.stopped) void this.attempt(sim);
        }, delay);
        // AgentSocket's `unreachable`: no HTTP answer, or an abnormal close after the upgrade.
        const unreachable = !refused && !endedByUs && (!wasOpen || code === 1006);
        if (unreachable) sim.probe?.watch();
        else sim.probe?.pause();
      });
    });
  }

  private startHeartbeats(sim: Sim): void {
    if (sim.heartbeatTimer) return;
    const now = performance.now();
    const slot = this.epoch + (sim.i / this.sims.length) * HEARTBEAT_INTERVAL_MS;
    sim.nextBeatAt = slot + (Math.floor((now - slot) / HEARTBEAT_INTERVAL_MS) + 1) * HEARTBEAT_INTERVAL_MS;
    // Each slot once: the next one is computed from the slot, not from when the timer happened to fire.
    const schedule = () => {
      sim.heartbeatTimer = setTimeout(
        () => {
          if (sim.stopped) return;
          sim.nextBeatAt += HEARTBEAT_INTERVAL_MS;
          schedule();
          void this.beat(sim);
        },
        Math.max(0, sim.nextBeatAt - performance.now()),
      );
    };
    schedule();
  }

  /** POST /api/v1/agents/heartbeat with the session token of the current welcome (keep-alive fetch). */
  private async beat(sim: Sim): Promise<void> {
    const phase = this.stats();
    if (!sim.welcomed || !sim.session) {
      phase.heartbeatsSkipped += 1;
      return;
    }
    const started = performance.now();
    try {
      const res = await fetch(`${this.httpBase}/api/v1/agents/heartbeat`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${sim.session}`,
          'x-canopy-fingerprint': sim.fingerprint,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          state: 'connected',
          uptime_s: Math.round((performance.now() - sim.startedAt) / 1000),
        }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      const ms = performance.now() - started;
      if (ms > SLOW_HEARTBEAT_MS) this.slowBeats.push({ at: started, ms });
      if (res.status === 200) phase.heartbeatMs.push(ms);
      else phase.heartbeatErrors.add(`heartbeat HTTP ${res.status}`, text);
    } catch (err) {
      phase.heartbeatErrors.add(`heartbeat network error ${errText(err)}`, String(err));
    }
  }

  /** Closes every connection (1000) and stops all timers; terminates what has not closed within 10 s. */
  async close(): Promise<void> {
    for (const sim of this.sims) {
      sim.stopped = true;
      sim.probe?.reset();
      if (sim.retryTimer) clearTimeout(sim.retryTimer);
      if (sim.heartbeatTimer) clearTimeout(sim.heartbeatTimer);
      sim.retryTimer = null;
      sim.heartbeatTimer = null;
      sim.ws?.close(1000, 'benchmark done');
    }
    const deadline = performance.now() + 10_000;
    while (this.sims.some((s) => s.ws) && performance.now() < deadline) await sleep(50);
    for (const sim of this.sims) sim.ws?.terminate();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Backends (postgres: a fresh database; Redis under a prefix of its own)

// ---------------------------------------------------------------------------------------------------------
// One real canopy-node daemon

async function measureDaemon(
  cloudUrl: string,
  idleS: number,
  cleanup: Cleanup,
  browser: DashboardClient,
  stop: AbortSignal,
) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'canopy-bench-node-'));
  cleanup.push({ what: `remove ${root}`, run: () => rm(root, { recursive: true, force: true }) });
  const home = path.join(root, 'node-home');
  const userHome = path.join(root, 'user-home');
  const {
    CANOPY_NODE_HOME: _h,
    CANOPY_NODE_CREDENTIAL_STORE: _c,
    DBUS_SESSION_BUS_ADDRESS: _d,
    ...inherited
  } = process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    CANOPY_NODE_HOME: home,
    HOME: userHome,
    CANOPY_NODE_CREDENTIAL_STORE: 'file',
    NO_COLOR: '1',
    // No dongle discovery: a broadcast on this machine's real interface would leave the machine.
    CANOPY_DISCOVERY: 'off',
  };
  const key = await browser.request('POST', '/api/v1/agents/enrollment-keys', { label: 'bench daemon' });
  const secret = (key.json as { secret?: string }).secret;
  if (key.status !== 201 || !secret) throw new Error(`POST /agents/enrollment-keys answered ${key.status}`);

  const setup = spawnNode(['setup', '-', '--cloud', cloudUrl], env, `${secret}\n`);
  const timer = setTimeout(() => setup.child.kill('SIGKILL'), 60_000);
  const setupCode = await setup.exited;
  clearTimeout(timer);
  if (setupCode !== 0) throw new Error(`canopy-node setup exited ${setupCode}:\n${setup.output}`);

  const healthPort = await freePort();
  const configFile = path.join(home, 'config.json');
  const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
  config.healthPort = healthPort;
  await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });

  const started = performance.now();
  const daemon = spawnNode(['daemon'], env);
  cleanup.push({
    what: 'stop the canopy-node daemon',
    run: async () => {
      await stopChild(daemon);
    },
  });
  const pid = daemon.child.pid ?? 0;
  let lastHealth = 'no answer yet';
  await waitUntil(
    'the canopy-node daemon to report connected on /health',
    async () => {
      if (daemon.child.exitCode !== null) throw new Error(`canopy-node daemon exited:\n${daemon.output}`);
      try {
        const res = await fetch(`http://127.0.0.1:${healthPort}/health`, {
          signal: AbortSignal.timeout(2000),
        });
        const body = (await res.json()) as { connection?: string };
        lastHealth = JSON.stringify(body);
        return body.connection === 'connected';
      } catch (err) {
        lastHealth = errText(err);
        return false;
      }
    },
    30_000,
    stop,
  ).catch((err: Error) => {
    throw new Error(`${err.message} (last: ${lastHealth})\n${daemon.output}`);
  });
  const connectedMs = performance.now() - started;
  const rssConnected = rssKiB(pid);
  console.log(
    `daemon:      canopy-node daemon (pid ${pid}) connected ${fmt(connectedMs / 1000)} s after spawn, ` +
      `RSS ${fmt(rssConnected / 1024)} MiB; idle for ${idleS} s …`,
  );
  const samples: number[] = [];
  const idleEnd = performance.now() + idleS * 1000;
  while (performance.now() < idleEnd) {
    if (stop.aborted) throw new Error('interrupted');
    if (daemon.child.exitCode !== null) throw new Error(`canopy-node daemon exited:\n${daemon.output}`);
    await sleep(Math.min(5000, Math.max(0, idleEnd - performance.now())));
    samples.push(rssKiB(pid));
  }
  const health = (await (await fetch(`http://127.0.0.1:${healthPort}/health`)).json()) as {
    connection?: string;
    reconnects?: number;
  };
  const rssIdle = rssKiB(pid);
  const code = await stopChild(daemon);
  // For scale: an idle `node` that has loaded nothing, on this machine.
  const bare = spawnBareNode();
  await sleep(2000);
  const bareRss = rssKiB(bare.child.pid ?? 0);
  await stopChild(bare);
  return {
    connected_s: round1(connectedMs / 1000),
    rss_connected_mib: round1(rssConnected / 1024),
    rss_idle_mib: round1(rssIdle / 1024),
    rss_idle_max_mib: round1(Math.max(rssIdle, ...samples) / 1024),
    connection_after_idle: health.connection ?? '?',
    reconnects: health.reconnects ?? -1,
    exit_code: code,
    bare_node_rss_mib: round1(bareRss / 1024),
  };
}

function spawnBareNode(): Child {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: new Tail(), exited };
}

// ---------------------------------------------------------------------------------------------------------
// Main

async function run(options: Options, cleanup: Cleanup, stop: AbortSignal) {
  if (!existsSync(NODE_BIN)) throw new Error(`${NODE_BIN} is missing`);
  const runStarted = performance.now();
  const date = new Date().toISOString();
  console.log(`Canopy nodes benchmark (bench/nodes.ts), ${date}`);
  const m = printMachine();
  const limit = openFilesLimit();
  console.log(
    `ulimit -n:   ${limit.soft} (hard ${limit.hard}); each simulated node holds 1 socket here and 1 in the cloud`,
  );
  const N = options.nodes;
  if (!(N + 512 <= limit.soft)) {
    throw new Error(
      `--nodes ${N} needs about ${N + 512} open files per process but \`ulimit -n\` is ${limit.soft}: ` +
        'lower --nodes or raise the limit',
    );
  }
  console.log(
    `build:       ${ensureBuilt('@canopy/cloud', 'apps/cloud/dist/cli.js', [
      'apps/cloud/src',
      'apps/cloud/build.mjs',
      'apps/cloud/package.json',
      'packages/protocol/src',
      'packages/terminal/src',
      'scripts/bundle.mjs',
    ])}`,
  );
  if (options.daemon) {
    console.log(
      `build:       ${ensureBuilt('@canopy/node', 'apps/node/dist/cli.js', [
        'apps/node/src',
        'apps/node/build.mjs',
        'apps/node/pack.mjs',
        'apps/node/package.json',
        'packages/protocol/src',
        'packages/terminal/src',
        'scripts/bundle.mjs',
      ])}`,
    );
  }
  const ticksPerS = clockTicksPerSecond();

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'canopy-bench-nodes-'));
  cleanup.push({ what: `remove ${dataDir}`, run: () => rm(dataDir, { recursive: true, force: true }) });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PORT: String(port),
    PUBLIC_URL: base,
    CANOPY_DATA_DIR: dataDir,
    RATE_LIMIT_REGISTER_MAX: '100000',
    RATE_LIMIT_SIGNUP_MAX: '1000',
  };
  let backendLabel = 'embedded (PGlite in CANOPY_DATA_DIR + in-process stream engine)';
  if (options.backend === 'postgres') {
    const database = await createPostgresDatabase(cleanup);
    const redis = await createRedisPrefix(cleanup, 'nodes');
    env.DATABASE_URL = database.url;
    env.REDIS_URL = redis.url;
    env.REDIS_KEY_PREFIX = redis.prefix;
    backendLabel =
      `postgres (PostgreSQL ${database.version}, fresh database ${database.name}) + ` +
      `Redis ${redis.version} (REDIS_KEY_PREFIX ${redis.prefix})`;
  }
  console.log(`backend:     ${backendLabel}`);

  const log = new CloudLog();
  // Runs after the cloud has stopped (cleanup runs in reverse): prints its log if the run failed.
  cleanup.push({ what: 'print the cloud log', run: async () => log.report() });
  let server: Server = spawnServer({ env: cloudEnv(env), port });
  log.attach(server);
  cleanup.push({
    what: 'stop the cloud',
    run: async () => {
      const stopped = await stopServer(server);
      if (stopped.killed) console.log('cleanup:     the cloud did not exit within 15 s of SIGTERM: SIGKILL');
    },
  });
  const alive = () => server.child.exitCode === null && server.child.signalCode === null;
  const bootStarted = performance.now();
  const health = await waitHealthy(server, { timeoutMs: 60_000 });
  const pid = () => server.child.pid ?? 0;
  console.log(
    `cloud:       pid ${pid()} on ${base}, /healthz 200 after ${fmt(performance.now() - bootStarted)} ms ` +
      `(database=${health.checks.database.kind}, stream_engine=${health.checks.stream_engine.kind})`,
  );

  // ---- 2. a user, an enrollment key, N registrations ----
  log.phase = 'register';
  const suffix = randomBytes(4).toString('hex');
  const browser = new DashboardClient(base);
  const signup = await browser.request('POST', '/api/v1/auth/signup', {
    email: `bench-nodes-${suffix}@bench.canopy.localhost`,
    password: `bench-password-${suffix}`,
  });
  if (signup.status !== 201)
    throw new Error(`signup answered ${signup.status}: ${JSON.stringify(signup.json)}`);
  const keyReply = await browser.request('POST', '/api/v1/agents/enrollment-keys', { label: 'bench' });
  const enrollmentKey = (keyReply.json as { secret?: string }).secret;
  if (keyReply.status !== 201 || !enrollmentKey) {
    throw new Error(`POST /agents/enrollment-keys answered ${keyReply.status}`);
  }
  const sims: Sim[] = [];
  const registerErrors = new Counter();
  const registerMs: number[] = [];
  const registerStarted = performance.now();
  await pool(N, options.registerConcurrency, stop, async (i) => {
    const fingerprint = createHash('sha256').update(`canopy-bench-${suffix}-${i}`).digest('hex');
    const hostname = `sim-${i}`;
    const started = performance.now();
    try {
      const res = await fetch(`${base}/api/v1/agents/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          enrollment_key: enrollmentKey,
          hostname,
          os: 'linux (simulated by bench/nodes.ts)',
          version: '0.0.0-bench',
          network_interfaces: [],
          fingerprint,
        }),
        signal: AbortSignal.any([stop, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      });
      const text = await res.text();
      if (res.status !== 201) {
        registerErrors.add(`register HTTP ${res.status}`, text);
        return;
      }
      registerMs.push(performance.now() - started);
      const body = JSON.parse(text) as { agent_id: string; agent_token: string };
      sims[i] = {
        i,
        hostname,
        fingerprint,
        agentId: body.agent_id,
        agentToken: body.agent_token,
        ws: null,
        session: null,
        welcomed: false,
        failures: 0,
        replaced: false,
        limiter: new AttemptLimiter(),
        retryTimer: null,
        heartbeatTimer: null,
        stopped: false,
        startedAt: performance.now(),
        lastWelcomeAt: 0,
        attempts: 0,
        handshakeTimeouts: 0,
        nextBeatAt: 0,
        probe: null,
      };
    } catch (err) {
      registerErrors.add(`register network error ${errText(err)}`, String(err));
    }
  });
  const registerS = (performance.now() - registerStarted) / 1000;
  const register = msStats(registerMs);
  console.log(
    `register:    ${registerMs.length} nodes in ${fmt(registerS)} s (${fmt(registerMs.length / registerS)}/s, ` +
      `concurrency ${options.registerConcurrency}), p50 ${fmt(register.p50_ms)} ms, p99 ${fmt(register.p99_ms)} ms, ` +
      `${registerErrors.total} errors`,
  );
  registerErrors.print('register error');
  if (registerErrors.total > 0 || sims.filter(Boolean).length !== N) throw new Error('registration failed');

  // A fresh process for the baseline: the first start (migrations) and N registrations leave garbage that the
  // heap and allocator give back slowly, which would hide the memory of the connections. Same data, same port.
  log.phase = 'restart';
  const restartStarted = performance.now();
  const stoppedForBaseline = await stopServer(server);
  if (stoppedForBaseline.killed || stoppedForBaseline.code !== 0) {
    throw new Error(`the cloud did not stop cleanly before the baseline:\n${server.output}`);
  }
  server = spawnServer({ env: cloudEnv(env), port, inspect: true });
  const cloudStartedAt = performance.now();
  log.attach(server);
  await waitHealthy(server, { timeoutMs: 60_000 });
  const inspector = await Inspector.of(server);
  console.log(
    `restart:     SIGTERM + start again (pid ${pid()}) for a clean baseline, /healthz 200 after ` +
      `${fmt((performance.now() - restartStarted) / 1000)} s`,
  );

  const herd = new Herd(sims, `ws://127.0.0.1:${port}/ws/agent`, base, options.probe);
  cleanup.push({ what: 'close the simulated nodes', run: () => herd.close() });

  // ---- warm-up, then the baseline ----
  log.phase = 'warm-up';
  const warm = sims.slice(0, Math.min(WARMUP_NODES, N));
  await Promise.all(warm.map((sim) => herd.attempt(sim)));
  await Promise.all(
    warm.map(async (sim) => {
      if (!sim.welcomed) return;
      const res = await fetch(`${base}/api/v1/agents/heartbeat`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${sim.session}`,
          'x-canopy-fingerprint': sim.fingerprint,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ state: 'connected', uptime_s: 0 }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      if (res.status !== 200) herd.stats().heartbeatErrors.add(`heartbeat HTTP ${res.status}`, text);
    }),
  );
  for (const sim of warm) {
    sim.stopped = true;
    sim.probe?.reset();
    if (sim.retryTimer) clearTimeout(sim.retryTimer);
    sim.retryTimer = null;
    sim.ws?.close(1000, 'warm-up done');
  }
  await waitUntil('the warm-up connections to close', () => warm.every((s) => !s.ws), 10_000, stop, 20);
  for (const sim of warm) {
    sim.stopped = false;
    sim.attempts = 0;
  }
  const warmStats = herd.stats('warm-up');
  const warmErrors = warmStats.attemptErrors.total + warmStats.heartbeatErrors.total + warmStats.other.total;
  console.log(
    `warm-up:     ${warm.length} connections + 1 heartbeat each, then closed; ${warmErrors} errors`,
  );
  warmStats.attemptErrors.print('warm-up error');
  warmStats.heartbeatErrors.print('warm-up error');
  warmStats.other.print('warm-up problem');
  // Baseline: RSS once it is steady (5 samples 1 s apart within 2 MiB), at most 30 s.
  const baselineSamples: number[] = [];
  const idleTicks0 = cpuTicks(pid());
  const idle0 = performance.now();
  const steady = () => {
    const last = baselineSamples.slice(-5);
    return last.length === 5 && Math.max(...last) - Math.min(...last) <= 2048;
  };
  while (!steady() && performance.now() - idle0 < 30_000) {
    if (stop.aborted) throw new Error('interrupted');
    await sleep(1000);
    baselineSamples.push(rssKiB(pid()));
  }
  const idleCpuPct =
    ((cpuTicks(pid()) - idleTicks0) / ticksPerS / ((performance.now() - idle0) / 1000)) * 100;
  const rssBefore = mean(baselineSamples.slice(-5));
  // The same after a full garbage collection (forced through the inspector): the live size.
  const gcBefore = { ...(await inspector.collect()), rss: rssKiB(pid()) };
  console.log(
    `baseline:    cloud RSS ${fmt(rssBefore / 1024)} MiB with ${N} nodes registered, none connected ` +
      `(mean of the last 5 of ${baselineSamples.length} samples 1 s apart, ${steady() ? 'steady' : 'NOT steady'}; ` +
      `after a warm-up of ${warm.length} connections + heartbeats; idle CPU ${fmt(idleCpuPct)} %); ` +
      `load avg ${loadavg()}`,
  );

  // ---- 3. connect all N ----
  herd.phase = 'connect';
  log.phase = 'connect';
  herd.heartbeatsOn = true;
  herd.epoch = performance.now();
  const connectStarted = performance.now();
  await pool(N, options.connectConcurrency, stop, async (i) => {
    await herd.attempt(sims[i] as Sim);
  });
  await waitUntil(`all ${N} nodes to be welcomed`, () => herd.connected === N || !alive(), 120_000, stop);
  if (!alive()) throw new Error(`the cloud exited while the nodes connected:\n${server.output}`);
  const connectS = (performance.now() - connectStarted) / 1000;
  const connectPhase = herd.stats('connect');
  const connect = msStats(connectPhase.connectMs);
  console.log(
    `connect:     ${herd.connected}/${N} welcomed in ${fmt(connectS)} s (concurrency ${options.connectConcurrency}); ` +
      `upgrade → welcome p50 ${fmt(connect.p50_ms)} ms, p99 ${fmt(connect.p99_ms)} ms, max ${fmt(connect.max_ms)} ms; ` +
      `${connectPhase.attemptErrors.total} failed attempts`,
  );
  connectPhase.attemptErrors.print('connect error');

  // ---- 4. settle: N connected, heartbeating ----
  herd.phase = 'settle';
  log.phase = 'settle';
  const settleStarted = performance.now();
  const ticks0 = cpuTicks(pid());
  const benchCpu0 = process.cpuUsage();
  const rssSeries: number[] = [];
  const minConnected = { n: herd.connected };
  const settleEnd = settleStarted + options.settleS * 1000;
  console.log(`settle:      ${options.settleS} s with ${herd.connected} nodes heartbeating every 30 s …`);
  while (performance.now() < settleEnd) {
    if (stop.aborted) throw new Error('interrupted');
    if (!alive()) throw new Error(`the cloud exited during the settle window:\n${server.output}`);
    await sleep(Math.min(1000, Math.max(0, settleEnd - performance.now())));
    minConnected.n = Math.min(minConnected.n, herd.connected);
    rssSeries.push(rssKiB(pid()));
  }
  const settleWallS = (performance.now() - settleStarted) / 1000;
  const cpuPct = ((cpuTicks(pid()) - ticks0) / ticksPerS / settleWallS) * 100;
  const benchCpu = process.cpuUsage(benchCpu0);
  const benchCpuPct = ((benchCpu.user + benchCpu.system) / 1e6 / settleWallS) * 100;
  // RSS saws up and down by tens of MiB (garbage collection): "after" is the mean of the last 10 one-second
  // samples of the window; the window's min and mean are printed too.
  const rssAfter = mean(rssSeries.slice(-10));
  const kibPerNodeSampled = (rssAfter - rssBefore) / N;
  // The goal's figure: RSS and V8 heap after a forced full GC, before and after, per connected node.
  const gcAfter = { ...(await inspector.collect()), rss: rssKiB(pid()) };
  const kibPerNode = (gcAfter.rss - gcBefore.rss) / N;
  const heapKibPerNode = (gcAfter.heapUsed - gcBefore.heapUsed) / 1024 / N;
  const rssMin = Math.min(...rssSeries);
  const rssMax = Math.max(...rssSeries);
  const rssMean = mean(rssSeries);
  const settleSlow = herd.slowBeats.filter((b) => b.at >= settleStarted && b.at < settleEnd);
  const settle = herd.stats('settle');
  const heartbeats = msStats(settle.heartbeatMs);
  const connectedAfterSettle = herd.connected;
  const settleErrors =
    settle.attemptErrors.total + settle.closes.total + settle.other.total + settle.heartbeatErrors.total;
  console.log(
    `memory:      after a full GC (forced through the inspector), cloud RSS ${fmt(gcBefore.rss / 1024)} → ` +
      `${fmt(gcAfter.rss / 1024)} MiB = ${fmt(kibPerNode)} KiB per connected node (goal ≤ ${GOALS.kibPerNode}); ` +
      `V8 heap ${fmt(gcBefore.heapUsed / 1048576)} → ${fmt(gcAfter.heapUsed / 1048576)} MiB = ${fmt(heapKibPerNode)} KiB per node`,
  );
  console.log(
    `             as sampled, without forcing GC: RSS ${fmt(rssBefore / 1024)} → ${fmt(rssAfter / 1024)} MiB = ` +
      `${fmt(kibPerNodeSampled)} KiB per node ("after" = mean of the last 10 s; the heap's garbage saws up and down)`,
  );
  console.log(
    `             over the whole window: min ${fmt(rssMin / 1024)} (${fmt((rssMin - rssBefore) / N)} KiB/node), ` +
      `mean ${fmt(rssMean / 1024)} (${fmt((rssMean - rssBefore) / N)} KiB/node), max ${fmt(rssMax / 1024)} MiB; ` +
      `every 5 s: ${rssSeries
        .filter((_, k) => k % 5 === 4)
        .map((r) => fmt(r / 1024))
        .join(', ')} MiB`,
  );
  console.log(
    `cpu:         cloud ${fmt(cpuPct)} % of one core over ${fmt(settleWallS)} s ` +
      `(this benchmark process: ${fmt(benchCpuPct)} %); load avg ${loadavg()}`,
  );
  console.log(
    `heartbeats:  ${heartbeats.n} ok in the window (${fmt(heartbeats.n / settleWallS)}/s), ` +
      `p50 ${fmt(heartbeats.p50_ms)} ms, p99 ${fmt(heartbeats.p99_ms)} ms, max ${fmt(heartbeats.max_ms)} ms; ` +
      `${settle.heartbeatErrors.total} errors`,
  );
  console.log(
    `             slower than ${SLOW_HEARTBEAT_MS} ms: ${settleSlow.length}, in bursts starting at ` +
      `${
        bursts(settleSlow.map((b) => b.at))
          .map(
            (b) =>
              `${fmt((b.start - cloudStartedAt) / 1000)} s (${b.n}, up to ${fmt(Math.max(...settleSlow.filter((x) => x.at >= b.start && x.at <= b.end).map((x) => x.ms)))} ms)`,
          )
          .join(', ') || '-'
      } after the cloud process started`,
  );
  console.log(
    `connected:   ${connectedAfterSettle}/${N} at the end, never fewer than ${minConnected.n}; ` +
      `${settle.closes.total} closes, ${settle.attemptErrors.total} failed attempts, ` +
      `${settle.other.total} other problems in the window`,
  );
  settle.closes.print('settle close');
  settle.attemptErrors.print('settle error');
  settle.heartbeatErrors.print('settle error');
  settle.other.print('settle problem');

  // ---- 5. reconnect storm ----
  log.phase = 'storm';
  herd.phase = 'down';
  for (const sim of sims) sim.attempts = 0;
  const killedAt = performance.now();
  process.kill(pid(), 'SIGKILL');
  await server.exited;
  server = spawnServer({ env: cloudEnv(env), port });
  log.attach(server);
  const healthAgain = await waitHealthy(server, { intervalMs: 20, timeoutMs: 60_000 });
  const healthyAt = performance.now();
  herd.phase = 'storm';
  console.log(
    `policy:      canopy-node's: backoff ${[1, 2, 3, 4, 5, 6, 7]
      .map((a) => backoffDelay(a, () => 0.5) / 1000)
      .join(', ')} s ±0.5 s (cap ${BACKOFF_CAP_MS / 1000} s), at most 10 attempts a minute` +
      (options.probe
        ? `, and its return probe: GET /readyz every ${PROBE_INTERVAL_MS / 1000} s ±0.25 in the first ` +
          `${PROBE_WINDOW_MS / 1000} s of an outage, attempting at once when it answers`
        : '; return probe off (--no-probe)'),
  );
  console.log(
    `storm:       cloud SIGKILLed with ${N} nodes connected, restarted (pid ${pid()}, same port and data), ` +
      `/healthz 200 ${fmt((healthyAt - killedAt) / 1000)} s after the kill ` +
      `(database=${healthAgain.checks.database.kind}); waiting for ${N} welcomes …`,
  );
  // First: every node has had a welcome since the kill and is connected. Then: all N stay connected for
  // STABLE_MS (a node closed after its welcome, e.g. with 4000, must come back before the herd counts as
  // recovered). Both bounded by --storm-timeout-s from /healthz.
  const stormDeadline = healthyAt + options.stormTimeoutS * 1000;
  const backCount = () => sims.filter((s) => s.lastWelcomeAt > killedAt).length;
  await waitUntil(
    `all ${N} nodes to be welcomed again`,
    () => sims.every((s) => s.lastWelcomeAt > killedAt && s.welcomed) || !alive(),
    stormDeadline - performance.now(),
    stop,
    20,
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${backCount()}/${N} back, ${herd.connected} connected`);
  });
  if (!alive()) throw new Error(`the cloud exited during the reconnect storm:\n${server.output}`);
  const firstAllAt = Math.max(...sims.map((s) => s.lastWelcomeAt));
  const backAfterKill = stats(sims.map((s) => s.lastWelcomeAt - killedAt));
  const backAfterHealthy = stats(sims.map((s) => s.lastWelcomeAt - healthyAt));
  const attemptsHist = new Map<number, number>();
  for (const sim of sims) attemptsHist.set(sim.attempts, (attemptsHist.get(sim.attempts) ?? 0) + 1);
  console.log(
    `reconnect:   all ${N} had a welcome again ${fmt((firstAllAt - healthyAt) / 1000)} s after /healthz answered; ` +
      `per node after /healthz: p50 ${fmt(backAfterHealthy.p50 / 1000)} s, p99 ${fmt(backAfterHealthy.p99 / 1000)} s; ` +
      `after the kill: p50 ${fmt(backAfterKill.p50 / 1000)} s, max ${fmt(backAfterKill.max / 1000)} s`,
  );
  console.log(
    `             attempts per node until then: ${[...attemptsHist]
      .sort((a, b) => a[0] - b[0])
      .map(([a, n]) => `${a}×${n}`)
      .join(', ')}; ` + `now waiting until all ${N} have stayed connected for ${STABLE_MS / 1000} s …`,
  );
  let stableAt: number | null = null;
  while (performance.now() < stormDeadline) {
    if (stop.aborted) throw new Error('interrupted');
    if (!alive()) throw new Error(`the cloud exited during the reconnect storm:\n${server.output}`);
    if (herd.fullSince !== null && performance.now() - herd.fullSince >= STABLE_MS) {
      stableAt = herd.fullSince;
      break;
    }
    await sleep(100);
  }
  const stormS = stableAt === null ? Number.NaN : (stableAt - healthyAt) / 1000;
  const down = herd.stats('down');
  const storm = herd.stats('storm');
  const stormConnect = msStats(storm.connectMs);
  const isRefusal = (kind: string) => /HTTP (5\d\d|429)/.test(kind);
  let refusals = 0;
  for (const counter of [down.attemptErrors, storm.attemptErrors]) {
    for (const [kind, { count }] of counter.map) if (isRefusal(kind)) refusals += count;
  }
  let refusedAfterHealthy = 0;
  let otherStormErrors = 0;
  for (const [kind, { count }] of storm.attemptErrors.map) {
    if (/ECONNREFUSED/.test(kind)) refusedAfterHealthy += count;
    else if (!isRefusal(kind)) otherStormErrors += count;
  }
  const replaced = herd.replacedCloses.filter((r) => r.at > healthyAt);
  console.log(
    stableAt === null
      ? `recovered:   NO: not all ${N} connected for ${STABLE_MS / 1000} s within --storm-timeout-s ` +
          `${options.stormTimeoutS} (${herd.connected} connected now)`
      : `recovered:   all ${N} connected (and for ${STABLE_MS / 1000} s after) from ${fmt(stormS)} s after ` +
          `/healthz answered (goal ≤ ${GOALS.stormS} s)`,
  );
  console.log(
    `             upgrade → welcome during the storm p50 ${fmt(stormConnect.p50_ms)} ms, ` +
      `p99 ${fmt(stormConnect.p99_ms)} ms, max ${fmt(stormConnect.max_ms)} ms (${stormConnect.n} welcomes)`,
  );
  down.closes.print('closes at the kill');
  down.attemptErrors.print('failed attempts while down (before /healthz 200)');
  down.heartbeatErrors.print('heartbeat errors while down');
  storm.attemptErrors.print('failed attempts after /healthz 200');
  storm.closes.print('closes of welcomed connections after /healthz 200');
  storm.heartbeatErrors.print('heartbeat errors after /healthz 200');
  storm.other.print('storm problem');
  if (replaced.length > 0) {
    const at = stats(replaced.map((r) => r.at - healthyAt));
    console.log(
      `             ${replaced.length} welcomed node(s) were closed with 4000 (replaced) although each node has ` +
        `one connection: ${fmt(at.p50 / 1000)} s (p50) / ${fmt(at.max / 1000)} s (max) after /healthz; ` +
        `${replaced.filter((r) => r.hadTimeout).length} of them had an earlier attempt end in a handshake timeout; ` +
        `canopy-node then waits the ${BACKOFF_CAP_MS / 1000} s cap`,
    );
  }
  console.log(
    `             refusals (5xx/429): ${refusals}; ECONNREFUSED after /healthz 200: ${refusedAfterHealthy}; ` +
      `other failed attempts after /healthz 200: ${otherStormErrors}; ` +
      `heartbeats skipped while a node was reconnecting: ${down.heartbeatsSkipped + storm.heartbeatsSkipped}`,
  );
  if (options.probe) {
    const probes = (c: Counter) =>
      [...c.map].map(([kind, { count }]) => `${count} × ${kind}`).join(', ') || 'none';
    console.log(
      `             return probes (GET /readyz) while down: ${probes(down.probes)}; after /healthz 200: ` +
        `${probes(storm.probes)}; attempts started by the probe: ${down.probeAttempts + storm.probeAttempts}`,
    );
  }
  const connectedAfterStorm = herd.connected;
  const rssAfterStorm = rssKiB(pid());
  console.log(
    `after:       ${connectedAfterStorm}/${N} connected, cloud RSS ${fmt(rssAfterStorm / 1024)} MiB; ` +
      `load avg ${loadavg()}`,
  );
  herd.phase = 'closing';
  log.phase = 'closing';
  await herd.close();

  // ---- 6. one real canopy-node daemon ----
  let daemon: Awaited<ReturnType<typeof measureDaemon>> | undefined;
  if (options.daemon) {
    log.phase = 'daemon';
    daemon = await measureDaemon(base, options.daemonIdleS, cleanup, browser, stop);
    console.log(
      `daemon:      idle RSS ${fmt(daemon.rss_idle_mib)} MiB after ${options.daemonIdleS} s idle ` +
        `(max over the idle samples ${fmt(daemon.rss_idle_max_mib)} MiB; goal ≤ ${GOALS.daemonMiB} MB); ` +
        `still ${daemon.connection_after_idle}, ${daemon.reconnects} reconnects, exit ${daemon.exit_code} on SIGTERM; ` +
        `for scale, a bare idle \`node -e\` here: ${fmt(daemon.bare_node_rss_mib)} MiB`,
    );
  }

  log.report();

  const errors =
    warmErrors +
    connectPhase.attemptErrors.total +
    connectPhase.other.total +
    connectPhase.heartbeatErrors.total +
    settleErrors +
    refusals +
    refusedAfterHealthy +
    otherStormErrors +
    storm.closes.total +
    storm.heartbeatErrors.total +
    storm.other.total +
    (connectedAfterSettle === N ? 0 : 1) +
    (stableAt === null ? 1 : 0);
  const goals = {
    memory_per_node: kibPerNode <= GOALS.kibPerNode,
    storm: stormS <= GOALS.stormS,
    daemon_rss: daemon ? daemon.rss_idle_mib * 1.048576 <= GOALS.daemonMiB : null,
    no_errors: errors === 0,
  };
  const totalS = (performance.now() - runStarted) / 1000;
  console.log(`total:       ${fmt(totalS)} s (before cleanup); load avg ${loadavg()}`);
  return {
    bench: 'nodes',
    date,
    total_s: round1(totalS),
    ...m,
    loadavg_end: os.loadavg().map(round1),
    ulimit_n: limit.soft,
    backend: options.backend,
    nodes: N,
    register: { seconds: round1(registerS), ...register },
    connect: { seconds: round1(connectS), ...connect },
    settle: {
      seconds: round1(settleWallS),
      rss_after_gc_before_mib: round1(gcBefore.rss / 1024),
      rss_after_gc_after_mib: round1(gcAfter.rss / 1024),
      kib_per_node: round1(kibPerNode),
      heap_after_gc_kib_per_node: round1(heapKibPerNode),
      rss_sampled_before_mib: round1(rssBefore / 1024),
      rss_sampled_after_mib: round1(rssAfter / 1024),
      kib_per_node_sampled: round1(kibPerNodeSampled),
      rss_window_min_mean_max_mib: [round1(rssMin / 1024), round1(rssMean / 1024), round1(rssMax / 1024)],
      cpu_pct_one_core: round1(cpuPct),
      bench_cpu_pct: round1(benchCpuPct),
      heartbeat: heartbeats,
      heartbeats_slower_than_250ms: settleSlow.length,
      connected_end: connectedAfterSettle,
      connected_min: minConnected.n,
      closes: settle.closes.total,
      errors: settleErrors,
    },
    storm: {
      restart_to_healthz_s: round1((healthyAt - killedAt) / 1000),
      first_all_welcomed_after_healthz_s: round1((firstAllAt - healthyAt) / 1000),
      recovered_after_healthz_s: round1(stormS),
      replaced_4000_after_welcome: replaced.length,
      p50_after_healthz_s: round1(backAfterHealthy.p50 / 1000),
      p99_after_healthz_s: round1(backAfterHealthy.p99 / 1000),
      welcome_ms: stormConnect,
      refusals_5xx_429: refusals,
      failed_attempts_while_down: down.attemptErrors.toJSON(),
      failed_attempts_after_healthz: storm.attemptErrors.toJSON(),
      probe: options.probe,
      probes_while_down: down.probes.toJSON(),
      probes_after_healthz: storm.probes.toJSON(),
      attempts_started_by_probe: down.probeAttempts + storm.probeAttempts,
      connected_end: connectedAfterStorm,
    },
    daemon: daemon ?? null,
    cloud_log_warnings: log.lines.toJSON(),
    errors,
    goals,
  };
}

process.exit(
  await runBenchmark({
    name: 'nodes',
    help: HELP,
    parse: parseOptions,
    run,
    limitMs: OVERALL_LIMIT_MS,
    exitCode: (summary) => (summary.errors > 0 ? 1 : 0),
    report: (summary) => {
      const missed = Object.entries(summary.goals)
        .filter(([, ok]) => ok === false)
        .map(([goal]) => goal);
      if (summary.errors > 0) console.log(`FAILED: ${summary.errors} error(s) (see above)`);
      console.log(missed.length > 0 ? `goals missed: ${missed.join(', ')}` : 'goals: all met');
      console.log(JSON.stringify(summary));
    },
  }),
);
