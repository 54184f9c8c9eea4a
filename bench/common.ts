// Shared helpers for the benchmarks: spawning canopy-cloud, waiting for /healthz, stats, machine info.
// Everything talks to 127.0.0.1 only.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLOUD_BIN = path.join(REPO_ROOT, 'apps/cloud/bin/canopy-cloud.js');
export const CLOUD_DIST = path.join(REPO_ROOT, 'apps/cloud/dist/cli.js');

/** Every variable canopy-cloud reads: removed from the inherited environment so only ours apply. */
const CLOUD_ENV_KEYS = [
  'PORT',
  'HOST',
  'PUBLIC_URL',
  'CANOPY_DATA_DIR',
  'DATABASE_URL',
  'REDIS_URL',
  'SMTP_URL',
  'MAIL_FROM',
  'LOG_LEVEL',
  'SESSION_TTL_HOURS',
  'TRUST_PROXY',
  'BODY_LIMIT_KB',
  'RATE_LIMIT_LOGIN_MAX',
  'RATE_LIMIT_SIGNUP_MAX',
  'RATE_LIMIT_PASSWORD_RESET_MAX',
  'RATE_LIMIT_REGISTER_MAX',
  'REDIS_KEY_PREFIX',
  'AGENT_SESSION_TTL_S',
  'AGENT_PING_INTERVAL_S',
  'AGENT_IDLE_TIMEOUT_S',
  'AGENT_QUEUE_MAX',
];

export function cloudEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of CLOUD_ENV_KEYS) delete env[key];
  // With CANOPY_BENCH_CLOUD_LOG (see spawnServer) the log is for reading: info and up.
  const level = process.env.CANOPY_BENCH_CLOUD_LOG ? 'info' : 'warn';
  return { ...env, HOST: '127.0.0.1', LOG_LEVEL: level, ...vars };
}

export function assertBuilt(): void {
  if (!existsSync(CLOUD_DIST)) {
    throw new Error(
      `${path.relative(REPO_ROOT, CLOUD_DIST)} is missing: run \`npm run build -w @canopy/cloud\``,
    );
  }
}

/** Only loopback addresses are allowed: the benchmarks never send traffic off this machine. */
export function assertLoopback(url: string, what: string): void {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
    throw new Error(`${what} must point at this machine (127.0.0.1), got host "${host}"`);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Keeps the last `limit` characters a child wrote, for error reports. */
export class Tail {
  private text = '';
  constructor(private readonly limit = 16_384) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.limit);
  }
  toString(): string {
    return this.text;
  }
}

export type Server = {
  child: ChildProcess;
  url: string;
  output: Tail;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

export type SpawnOptions = {
  command?: string;
  args?: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  /** Own process group, so stop() can signal the whole group (npm start spawns children). */
  group?: boolean;
  /** Start node's inspector on 127.0.0.1 (a free port) so the benchmark can force a GC (see Inspector). */
  inspect?: boolean;
};

/** Spawns `node apps/cloud/bin/canopy-cloud.js serve` (or another command) without waiting for it. */
export function spawnServer(options: SpawnOptions): Server {
  // CANOPY_BENCH_CLOUD_NODE_ARGS: node flags for the cloud process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.CANOPY_BENCH_CLOUD_NODE_ARGS ?? '').split(' ').filter(Boolean);
  if (options.inspect) nodeArgs.push('--inspect=127.0.0.1:0');
  const child = spawn(
    options.command ?? process.execPath,
    options.args ?? [...nodeArgs, CLOUD_BIN, 'serve'],
    {
      cwd: REPO_ROOT,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.group ?? false,
    },
  );
  const output = new Tail();
  // CANOPY_BENCH_CLOUD_LOG: a file that receives everything the cloud processes print (appended).
  const logFile = process.env.CANOPY_BENCH_CLOUD_LOG;
  const keep = (chunk: Buffer) => {
    output.push(chunk);
    if (logFile) appendFileSync(logFile, chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      output.push(`spawn error: ${err.message}\n`);
      resolve({ code: null, signal: null });
    });
  });
  return { child, url: `http://127.0.0.1:${options.port}`, output, exited };
}

/**
 * The cloud's inspector (a server spawned with `inspect`): forces a full garbage collection, so memory is
 * compared at its live size and not at wherever the heap's sawtooth happens to be.
 */
export class Inspector {
  private constructor(private readonly url: string) {}

  /** Finds the inspector URL the process printed ("Debugger listening on ws://…"). */
  static async of(server: Server, timeoutMs = 10_000): Promise<Inspector> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const url = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(
        server.output.toString(),
      )?.[1];
      if (url) return new Inspector(url);
      if (performance.now() > deadline) throw new Error('the cloud did not print its inspector URL');
      await sleep(50);
    }
  }

  /** Full GC, then the V8 heap in use (bytes). */
  async collect(): Promise<{ heapUsed: number }> {
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(this.url);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let id = 0;
    const call = (method: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const mine = ++id;
        const onMessage = (data: Buffer) => {
          const reply = JSON.parse(data.toString()) as {
            id?: number;
            result?: Record<string, unknown>;
            error?: unknown;
          };
          if (reply.id !== mine) return;
          ws.off('message', onMessage);
          if (reply.error) reject(new Error(`${method}: ${JSON.stringify(reply.error)}`));
          else resolve(reply.result ?? {});
        };
        ws.on('message', onMessage);
        ws.send(JSON.stringify({ id: mine, method }));
      });
    try {
      await call('HeapProfiler.enable');
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.collectGarbage');
      const usage = await call('Runtime.getHeapUsage');
      return { heapUsed: Number(usage.usedSize) };
    } finally {
      ws.close();
    }
  }
}

/**
 * Polls GET /healthz every `intervalMs` until it answers 200; returns the body. Throws when the process
 * exits first or after `timeoutMs`.
 */
export async function waitHealthy(
  server: Server,
  options: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<HealthBody> {
  const intervalMs = options.intervalMs ?? 20;
  const deadline = performance.now() + (options.timeoutMs ?? 60_000);
  let exitedEarly = false;
  void server.exited.then(() => {
    exitedEarly = true;
  });
  let last = 'no answer yet';
  while (performance.now() < deadline) {
    if (exitedEarly) break;
    try {
      const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(2000) });
      const text = await res.text();
      if (res.status === 200) return JSON.parse(text) as HealthBody;
      last = `HTTP ${res.status}: ${text.slice(0, 300)}`;
    } catch (err) {
      last = err instanceof Error ? `${err.message}${causeOf(err)}` : String(err);
    }
    await sleep(intervalMs);
  }
  const why = exitedEarly ? 'the server exited' : `no 200 within ${options.timeoutMs ?? 60_000} ms`;
  throw new Error(`/healthz: ${why} (last: ${last})\n--- server output ---\n${server.output}`);
}

export type HealthBody = {
  status: string;
  checks: { database: { kind: string }; stream_engine: { kind: string } };
};

function causeOf(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? ` (${cause.message})` : '';
}

export type Stopped = {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** SIGKILL was needed. */
  killed: boolean;
  /** The process had exited before stopServer was called. */
  alreadyExited: boolean;
  ms: number;
};

/**
 * SIGTERM, then waits for exit (SIGKILL after `graceMs`). Returns how it ended; `killed` says SIGKILL was
 * needed. With `group` the signal goes to the child's own process group.
 */
export async function stopServer(
  server: Server,
  options: { graceMs?: number; group?: boolean } = {},
): Promise<Stopped> {
  const started = performance.now();
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    return { ...(await server.exited), killed: false, alreadyExited: true, ms: 0 };
  }
  const pid = child.pid;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(options.group ? -pid : pid, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.graceMs ?? 15_000);
  });
  const graceMs = options.graceMs ?? 15_000;
  const first = await Promise.race([server.exited, timedOut]);
  clearTimeout(timer);
  // With a group, the leader (npm) may exit before its children: wait for the whole group to be gone.
  const groupGone = async () => {
    while (performance.now() - started < graceMs) {
      try {
        process.kill(-pid, 0);
      } catch {
        return true;
      }
      await sleep(20);
    }
    return false;
  };
  if (first === 'timeout' || (options.group && !(await groupGone()))) {
    signal('SIGKILL');
    return { ...(await server.exited), killed: true, alreadyExited: false, ms: performance.now() - started };
  }
  return { ...first, killed: false, alreadyExited: false, ms: performance.now() - started };
}

/** Nearest-rank percentile of an ascending-sorted array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? hi) + hi) / 2;
}

export const round1 = (n: number) => Math.round(n * 10) / 10;
export const fmt = (n: number) => n.toFixed(1);

export function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    memory_gib: round1(os.totalmem() / 1024 ** 3),
    /** Other work on the machine skews the figures: the 1/5/15-minute load averages at the start. */
    loadavg: os.loadavg().map(round1),
  };
}

export function printMachine(): ReturnType<typeof machine> {
  const m = machine();
  console.log(`machine:     ${m.cpus} CPUs, ${m.cpu_model}; ${m.memory_gib} GiB RAM; ${m.platform}`);
  console.log(`node:        ${m.node}`);
  console.log(
    `load avg:    ${m.loadavg.join(' / ')} (1 / 5 / 15 min, at start; other work skews the figures)`,
  );
  return m;
}

/** Parses a positive integer option; `max` bounds what the benchmark will do. */
export function intOption(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new Error(`--${name} must be an integer from 1 to ${max} (got "${value}")`);
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// Builds, /proc and limits (Linux)

/** Newest modification time (ms) of the files under `paths` (directories are walked; node_modules skipped). */
function newestMtime(paths: string[]): number {
  let newest = 0;
  const visit = (p: string) => {
    if (!existsSync(p)) return;
    const stat = statSync(p);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(p))
        if (entry !== 'node_modules' && entry !== 'dist') visit(path.join(p, entry));
    } else {
      newest = Math.max(newest, stat.mtimeMs);
    }
  };
  for (const p of paths) visit(p);
  return newest;
}

/**
 * Runs `npm run build -w <workspace>` when `distFile` is missing or older than any of `sources` (relative to
 * the repository). Returns what it did, for the report.
 */
export function ensureBuilt(workspace: string, distFile: string, sources: string[]): string {
  const dist = path.join(REPO_ROOT, distFile);
  const missing = !existsSync(dist);
  const newest = newestMtime(sources.map((s) => path.join(REPO_ROOT, s)));
  if (!missing && statSync(dist).mtimeMs >= newest) return `${distFile} is up to date`;
  const why = missing ? 'missing' : 'older than its sources';
  const started = performance.now();
  const result = spawnSync('npm', ['run', 'build', '-w', workspace], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, npm_config_offline: 'true' },
  });
  if (result.status !== 0) {
    throw new Error(
      `npm run build -w ${workspace} failed (${result.error?.message ?? `exit ${result.status}`}):\n` +
        `${result.stdout}\n${result.stderr}`.slice(-4000),
    );
  }
  return `${distFile} was ${why}: built with \`npm run build -w ${workspace}\` in ${fmt((performance.now() - started) / 1000)} s`;
}

/** VmRSS of a process in KiB (from /proc/<pid>/status), or NaN when it cannot be read. */
export function rssKiB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** utime + stime of a process in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return Number.NaN;
  }
}

/** Clock ticks per second (getconf CLK_TCK; 100 on Linux when it cannot be asked). */
export function clockTicksPerSecond(): number {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 });
  const n = Number(result.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
}

/** The soft and hard limits on open files of this process (what `ulimit -n` shows), children inherit it. */
export function openFilesLimit(): { soft: number; hard: number } {
  try {
    const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    const parse = (v: string | undefined) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
    return { soft: parse(line?.[1]), hard: parse(line?.[2]) };
  } catch {
    return { soft: Number.NaN, hard: Number.NaN };
  }
}

/** What to undo at the end of a run, newest first (servers, databases, keys, temp folders). */
export type Cleanup = Array<{ what: string; run: () => Promise<void> }>;

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh database `canopy_bench_<random>` on the (loopback) PostgreSQL, dropped by the cleanup. */
export async function createPostgresDatabase(
  cleanup: Cleanup,
): Promise<{ url: string; name: string; version: string }> {
  const adminUrl = process.env.DATABASE_URL || DEFAULT_PG_URL;
  assertLoopback(adminUrl, 'DATABASE_URL');
  const name = `canopy_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  let version = '';
  try {
    version = String((await admin.query('SHOW server_version')).rows[0]?.server_version ?? '');
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  cleanup.push({
    what: `drop database ${name}`,
    run: async () => {
      const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, version };
}

/**
 * The frame every benchmark shares: parse options (exit 2 with the help on a bad one), run with a stop
 * signal wired to Ctrl-C/SIGTERM (and an optional overall time limit), always undo the cleanup steps (newest
 * first), print the report, and return the exit code.
 */
export async function runBenchmark<O, S>(spec: {
  name: string;
  help: string;
  parse: (argv: string[]) => O | undefined;
  run: (options: O, cleanup: Cleanup, stop: AbortSignal) => Promise<S>;
  /** 0 when the run counts as a success. */
  exitCode: (summary: S) => number;
  report: (summary: S) => void;
  limitMs?: number;
}): Promise<number> {
  let options: O | undefined;
  try {
    options = spec.parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${spec.help}`);
    return 2;
  }
  if (!options) {
    process.stdout.write(spec.help);
    return 0;
  }
  const controller = new AbortController();
  const onSignal = () => {
    process.stderr.write('interrupted: stopping and cleaning up\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const watchdog = spec.limitMs
    ? setTimeout(() => {
        process.stderr.write(`the benchmark ran longer than ${(spec.limitMs ?? 0) / 60_000} min: stopping\n`);
        controller.abort();
      }, spec.limitMs)
    : undefined;
  watchdog?.unref();
  const cleanup: Cleanup = [];
  let summary: S | undefined;
  let code = 1;
  try {
    summary = await spec.run(options, cleanup, controller.signal);
    code = spec.exitCode(summary);
  } catch (err) {
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.error(
      `${spec.name} benchmark ${controller.signal.aborted ? 'interrupted' : `failed: ${detail}`}`,
    );
  } finally {
    for (const step of cleanup.reverse()) {
      try {
        await step.run();
      } catch (err) {
        console.error(`cleanup failed (${step.what}): ${err instanceof Error ? err.message : String(err)}`);
        code = 1;
      }
    }
    clearTimeout(watchdog);
  }
  if (summary !== undefined) spec.report(summary);
  return code;
}

/** The dashboard's side of the API: cookies and CSRF, as a browser would. */
export class DashboardClient {
  private readonly cookies = new Map<string, string>();
  private csrf: string | undefined;
  constructor(private readonly base: string) {}

  private absorb(res: Response): void {
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(method: string, route: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    if (method !== 'GET' && !this.csrf) {
      const got = await this.request('GET', '/api/v1/auth/csrf');
      this.csrf = (got.json as { csrf_token?: string }).csrf_token;
      if (got.status !== 200 || !this.csrf) throw new Error(`GET /api/v1/auth/csrf answered ${got.status}`);
    }
    const headers: Record<string, string> = { cookie: this.cookieHeader() };
    if (method !== 'GET') headers['x-csrf-token'] = this.csrf ?? '';
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}${route}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    this.absorb(res);
    const text = await res.text();
    // Signing up or in rotates the session: the next unsafe request fetches a token for the new one.
    if (/\/auth\/(signup|login|logout)$/.test(route)) this.csrf = undefined;
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, json };
  }
}

export const NODE_BIN = path.join(REPO_ROOT, 'apps/node/bin/canopy-node.js');

/** A canopy-node process of a benchmark. */
export type Child = { child: ChildProcess; output: Tail; exited: Promise<number | null> };

/** Runs the built canopy-node CLI (`args`), output kept, `stdin` written and closed. */
export function spawnNode(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Child {
  const child = spawn(process.execPath, [NODE_BIN, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = new Tail();
  child.stdout?.on('data', (d: Buffer) => output.push(d));
  child.stderr?.on('data', (d: Buffer) => output.push(d));
  child.stdin?.end(stdin ?? '');
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => {
      output.push(`spawn error: ${err.message}\n`);
      resolve(null);
    });
  });
  return { child, output, exited };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
export async function stopChild(c: Child, graceMs = 10_000): Promise<number | null> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return c.child.exitCode;
  c.child.kill('SIGTERM');
  const timer = setTimeout(() => c.child.kill('SIGKILL'), graceMs);
  const code = await c.exited;
  clearTimeout(timer);
  return code;
}

// ---------------------------------------------------------------------------------------------------------
// Helpers added for bench/relay.ts

/** Busy and total clock ticks of the whole machine, all CPUs (the first line of /proc/stat). */
export function machineCpuTicks(): { busy: number; total: number } {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1);
    const n = fields.map(Number);
    const total = n.reduce((a, b) => a + b, 0);
    const idle = (n[3] ?? 0) + (n[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/**
 * A key prefix of its own on the (loopback) Redis at REDIS_URL (default redis://127.0.0.1:6379); the cleanup
 * deletes every key under it. Returns the server's version and pid (for its CPU, when it runs here).
 */
export async function createRedisPrefix(
  cleanup: Cleanup,
  label: string,
): Promise<{ url: string; prefix: string; version: string; pid: number }> {
  const { Redis } = await import('ioredis');
  const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  assertLoopback(url, 'REDIS_URL');
  const prefix = `canopy-bench-${label}-${randomBytes(4).toString('hex')}:`;
  const connect = async () => {
    const redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: 5000,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    await redis.connect();
    return redis;
  };
  const redis = await connect();
  let info = '';
  try {
    info = await redis.info('server');
  } finally {
    await redis.quit();
  }
  cleanup.push({
    what: `delete Redis keys ${prefix}*`,
    run: async () => {
      const r = await connect();
      try {
        let cursor = '0';
        do {
          const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          if (keys.length > 0) await r.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        await r.quit();
      }
    },
  });
  return {
    url,
    prefix,
    version: /redis_version:(\S+)/.exec(info)?.[1] ?? '',
    pid: Number(/process_id:(\d+)/.exec(info)?.[1] ?? Number.NaN),
  };
}

/** Logs in as the dashboard does (GET /auth/csrf, POST /auth/login); returns the `canopy_session` cookie pair. */
export async function loginCookie(base: string, email: string, password: string): Promise<string> {
  const pick = (res: Response, name: string) =>
    res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0] ?? '')
      .find((c) => c.startsWith(`${name}=`) && c.length > name.length + 1);
  const csrf = await fetch(`${base}/api/v1/auth/csrf`, { signal: AbortSignal.timeout(30_000) });
  const token = ((await csrf.json()) as { csrf_token?: string }).csrf_token;
  const presession = pick(csrf, 'canopy_presession');
  if (csrf.status !== 200 || !token || !presession) throw new Error(`GET /auth/csrf answered ${csrf.status}`);
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': token, cookie: presession },
    body: JSON.stringify({ email, password }),
    signal: AbortSignal.timeout(30_000),
  });
  const session = pick(res, 'canopy_session');
  if (res.status !== 200 || !session)
    throw new Error(`POST /auth/login answered ${res.status}: ${await res.text()}`);
  return session;
}
