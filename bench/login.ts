// Login throughput/latency of a real canopy-cloud process: `node --import tsx bench/login.ts --help`.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { ARGON2_PARAMS, hashPassword, verifyPassword } from '../apps/cloud/src/accounts/passwords';
import {
  assertBuilt,
  assertLoopback,
  type Cleanup,
  cloudEnv,
  createPostgresDatabase,
  fmt,
  freePort,
  intOption,
  percentile,
  printMachine,
  round1,
  runBenchmark,
  type Server,
  type Stopped,
  sleep,
  spawnServer,
  stopServer,
  waitHealthy,
} from './common';

const HELP = `Usage: node --import tsx bench/login.ts [options]   (or: npm run bench:login -- [options])

Starts canopy-cloud (node apps/cloud/bin/canopy-cloud.js serve) on 127.0.0.1, signs up N users, then logs
in with the right password from C concurrent workers. Each login = GET /api/v1/auth/csrf (not timed) +
POST /api/v1/auth/login (timed). Any non-200 makes the run exit 1.

  --backend embedded|postgres  embedded: PGlite + in-process engine (default). postgres: a fresh database
                               canopy_bench_<random> created through DATABASE_URL (default
                               postgres://postgres@127.0.0.1:5432/test) and dropped afterwards, plus Redis at
                               REDIS_URL (default redis://127.0.0.1:6379; an empty logical db is used)
  --concurrency C              concurrent workers (default 8, max 256)
  --seconds S                  measured duration (default 10, max 600)
  --count N                    stop after N measured logins (max 1000000; whichever of S/N comes first)
  --users N                    accounts to create (default 20, max 1000)
  --warmup N                   unmeasured logins first (default 10, max 1000)
  --verifies N                 in-process Argon2id verifies to average (default 50, max 1000)
`;

const REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

type Options = {
  backend: 'embedded' | 'postgres';
  concurrency: number;
  seconds: number;
  count: number;
  users: number;
  warmup: number;
  verifies: number;
};

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      backend: { type: 'string' },
      concurrency: { type: 'string' },
      seconds: { type: 'string' },
      count: { type: 'string' },
      users: { type: 'string' },
      warmup: { type: 'string' },
      verifies: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const backend = values.backend ?? 'embedded';
  if (backend !== 'embedded' && backend !== 'postgres') {
    throw new Error(`--backend must be embedded or postgres (got "${backend}")`);
  }
  const count = intOption(values.count, 'count', Number.POSITIVE_INFINITY, 1_000_000);
  return {
    backend,
    concurrency: intOption(values.concurrency, 'concurrency', 8, 256),
    // With only --count the time bound is the maximum.
    seconds: intOption(values.seconds, 'seconds', values.count && !values.seconds ? 600 : 10, 600),
    count,
    users: intOption(values.users, 'users', 20, 1000),
    warmup: intOption(values.warmup, 'warmup', 10, 1000),
    verifies: intOption(values.verifies, 'verifies', 50, 1000),
  };
}

// ---------------------------------------------------------------------------------------------------------
// HTTP

class RequestError extends Error {
  constructor(
    readonly category: string,
    message: string,
  ) {
    super(message);
  }
}

type User = { email: string; password: string };

function requestSignal(stop: AbortSignal): AbortSignal {
  return AbortSignal.any([stop, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]);
}

function cookieFrom(res: Response, name: string): string | undefined {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] ?? '')
    .find((c) => c.startsWith(`${name}=`) && c.length > name.length + 1);
}

async function send(step: string, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
    throw new RequestError(`${step} network error`, detail);
  }
}

/** GET /api/v1/auth/csrf with no cookie: a token bound to the fresh canopy_presession cookie. */
async function fetchCsrf(base: string, stop: AbortSignal): Promise<{ token: string; cookie: string }> {
  const res = await send('csrf GET', `${base}/api/v1/auth/csrf`, { signal: requestSignal(stop) });
  const text = await res.text();
  if (res.status !== 200) throw new RequestError(`csrf GET ${res.status}`, text.slice(0, 300));
  const token = (JSON.parse(text) as { csrf_token?: unknown }).csrf_token;
  const cookie = cookieFrom(res, 'canopy_presession');
  if (typeof token !== 'string' || !cookie) {
    throw new RequestError('csrf GET malformed', `no csrf_token or canopy_presession cookie: ${text}`);
  }
  return { token, cookie };
}

async function postJson(
  base: string,
  route: string,
  body: unknown,
  csrf: { token: string; cookie: string },
  stop: AbortSignal,
): Promise<{ res: Response; text: string; ms: number }> {
  const started = performance.now();
  const res = await send(`POST ${route}`, `${base}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf.token, cookie: csrf.cookie },
    body: JSON.stringify(body),
    signal: requestSignal(stop),
  });
  const text = await res.text();
  return { res, text, ms: performance.now() - started };
}

async function signup(base: string, user: User, stop: AbortSignal): Promise<void> {
  const csrf = await fetchCsrf(base, stop);
  const { res, text } = await postJson(base, '/api/v1/auth/signup', user, csrf, stop);
  if (res.status !== 201) {
    throw new RequestError(`signup ${res.status}`, `${user.email}: ${text.slice(0, 300)}`);
  }
}

/** One login; resolves to the POST latency in ms. */
async function login(base: string, user: User, stop: AbortSignal): Promise<number> {
  const csrf = await fetchCsrf(base, stop);
  const { res, text, ms } = await postJson(base, '/api/v1/auth/login', user, csrf, stop);
  if (res.status !== 200) throw new RequestError(`login ${res.status}`, text.slice(0, 300));
  if (!cookieFrom(res, 'canopy_session')) {
    throw new RequestError('login 200 without canopy_session cookie', text.slice(0, 300));
  }
  return ms;
}

type Phase = { latencies: number[]; errors: Map<string, { count: number; sample: string }>; wallMs: number };

/** Runs logins from `concurrency` workers until `seconds` have passed or `count` logins were started. */
async function runLogins(
  server: Server,
  users: User[],
  limits: { concurrency: number; seconds: number; count: number },
  stop: AbortSignal,
): Promise<Phase> {
  const latencies: number[] = [];
  const errors = new Map<string, { count: number; sample: string }>();
  const started = performance.now();
  const deadline = started + limits.seconds * 1000;
  let issued = 0;
  const alive = () => server.child.exitCode === null && server.child.signalCode === null;
  const worker = async () => {
    while (!stop.aborted && alive() && issued < limits.count && performance.now() < deadline) {
      const user = users[issued++ % users.length] as User;
      try {
        latencies.push(await login(server.url, user, stop));
      } catch (err) {
        if (stop.aborted) break;
        const category = err instanceof RequestError ? err.category : 'unexpected error';
        const entry = errors.get(category) ?? { count: 0, sample: String(err) };
        entry.count += 1;
        errors.set(category, entry);
        await sleep(10); // no hot loop against a failing server
      }
    }
  };
  await Promise.all(Array.from({ length: limits.concurrency }, worker));
  if (!alive()) {
    const entry = errors.get('server process exited during the run') ?? { count: 0, sample: '' };
    entry.count += 1;
    entry.sample = `last output:\n${server.output}`;
    errors.set('server process exited during the run', entry);
  }
  return { latencies, errors, wallMs: performance.now() - started };
}

function errorCount(phase: Phase): number {
  let n = 0;
  for (const { count } of phase.errors.values()) n += count;
  return n;
}

function printErrors(label: string, phase: Phase): void {
  for (const [category, { count, sample }] of phase.errors) {
    console.log(
      `  ${label} error: ${count} × ${category} (e.g. ${sample.replace(/\s+/g, ' ').slice(0, 300)})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Backends

/**
 * canopy-cloud always writes Redis keys under "canopy:", so the benchmark picks an empty logical database
 * (15 down to 1) and deletes the canopy:* keys it left there at the end.
 */
async function pickRedisDatabase(cleanup: Cleanup): Promise<{ url: string; db: number; version: string }> {
  const base = process.env.REDIS_URL || DEFAULT_REDIS_URL;
  assertLoopback(base, 'REDIS_URL');
  const connect = async (db: number) => {
    const url = new URL(base);
    url.pathname = `/${db}`;
    const redis = new Redis(url.toString(), {
      lazyConnect: true,
      connectTimeout: 5000,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    await redis.connect();
    return { redis, url: url.toString() };
  };
  for (let db = 15; db >= 1; db--) {
    let conn: Awaited<ReturnType<typeof connect>> | undefined;
    try {
      conn = await connect(db);
    } catch (err) {
      if (/DB index is out of range|invalid DB index/i.test(String(err))) continue;
      throw err;
    }
    const { redis, url } = conn;
    try {
      if ((await redis.dbsize()) !== 0) continue;
      const info = await redis.info('server');
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '';
      cleanup.push({
        what: `delete canopy:* keys in Redis db ${db}`,
        run: async () => {
          const { redis: r } = await connect(db);
          try {
            let cursor = '0';
            do {
              const [next, keys] = await r.scan(cursor, 'MATCH', 'canopy:*', 'COUNT', 500);
              if (keys.length > 0) await r.del(...keys);
              cursor = next;
            } while (cursor !== '0');
          } finally {
            await r.quit();
          }
        },
      });
      return { url, db, version };
    } finally {
      await redis.quit();
    }
  }
  throw new Error(`no empty logical database (1-15) on ${base}`);
}

// ---------------------------------------------------------------------------------------------------------
// Main

async function measureArgon2(n: number) {
  const password = 'bench-argon2-password';
  const stored = await hashPassword(password);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const ok = await verifyPassword(stored, password);
    times.push(performance.now() - started);
    if (!ok) throw new Error('in-process Argon2id verify returned false for the right password');
  }
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return { mean, min: Math.min(...times), max: Math.max(...times) };
}

async function run(options: Options, cleanup: Cleanup, stop: AbortSignal) {
  assertBuilt();
  const date = new Date().toISOString();
  console.log(`Canopy login benchmark (bench/login.ts), ${date}`);
  const m = printMachine();
  const threadpool = process.env.UV_THREADPOOL_SIZE ?? 'unset (libuv default 4)';
  console.log(`UV_THREADPOOL_SIZE: ${threadpool}`);
  const params = ARGON2_PARAMS;
  console.log(
    `argon2id:    m=${params.memoryCost} KiB, t=${params.timeCost}, p=${params.parallelism}` +
      ' (ARGON2_PARAMS, apps/cloud/src/accounts/passwords.ts)',
  );
  const argon = await measureArgon2(options.verifies);
  console.log(
    `argon2id in-process verify (this process, before the server starts): mean ${fmt(argon.mean)} ms over ` +
      `${options.verifies} sequential verifies (min ${fmt(argon.min)}, max ${fmt(argon.max)})`,
  );
  if (stop.aborted) throw new Error('interrupted');

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'canopy-bench-login-'));
  cleanup.push({ what: `remove ${dataDir}`, run: () => rm(dataDir, { recursive: true, force: true }) });
  const port = await freePort();
  const env: Record<string, string> = {
    PORT: String(port),
    CANOPY_DATA_DIR: dataDir,
    RATE_LIMIT_SIGNUP_MAX: '1000',
  };
  let backendLabel = 'embedded (PGlite in CANOPY_DATA_DIR + in-process stream engine)';
  if (options.backend === 'postgres') {
    const database = await createPostgresDatabase(cleanup);
    const redis = await pickRedisDatabase(cleanup);
    env.DATABASE_URL = database.url;
    env.REDIS_URL = redis.url;
    backendLabel =
      `postgres (PostgreSQL ${database.version}, fresh database ${database.name}) + ` +
      `Redis ${redis.version} (logical db ${redis.db})`;
  }
  console.log(`backend:     ${backendLabel}`);

  const server: Server = spawnServer({ env: cloudEnv(env), port });
  let stopped: Stopped | undefined;
  cleanup.push({
    what: 'stop the server',
    run: async () => {
      stopped ??= await stopServer(server);
    },
  });
  const bootStarted = performance.now();
  const health = await waitHealthy(server, { timeoutMs: 60_000 });
  console.log(
    `server:      node apps/cloud/bin/canopy-cloud.js serve on ${server.url}, /healthz 200 after ` +
      `${fmt(performance.now() - bootStarted)} ms (database=${health.checks.database.kind}, ` +
      `stream_engine=${health.checks.stream_engine.kind})`,
  );

  const suffix = randomBytes(4).toString('hex');
  const users: User[] = Array.from({ length: options.users }, (_, i) => ({
    email: `bench-${suffix}-${i}@bench.canopy.localhost`,
    password: `bench-password-${suffix}-${i}`,
  }));
  const signupStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(4, options.concurrency) }, async () => {
      while (next < users.length && !stop.aborted) await signup(server.url, users[next++] as User, stop);
    }),
  );
  console.log(
    `users:       ${users.length} created (POST /api/v1/auth/signup, ` +
      `${fmt(performance.now() - signupStarted)} ms)`,
  );

  const warm = await runLogins(
    server,
    users,
    { concurrency: options.concurrency, seconds: 120, count: options.warmup },
    stop,
  );
  console.log(`warm-up:     ${warm.latencies.length} logins ok, ${errorCount(warm)} errors (not measured)`);
  printErrors('warm-up', warm);
  if (stop.aborted) throw new Error('interrupted');

  const bound = Number.isFinite(options.count)
    ? `up to ${options.seconds} s or ${options.count} logins`
    : `${options.seconds} s`;
  console.log(`run:         concurrency ${options.concurrency}, ${bound}`);
  const phase = await runLogins(server, users, options, stop);
  if (stop.aborted) throw new Error('interrupted');
  const errors = errorCount(phase) + errorCount(warm);
  const sorted = [...phase.latencies].sort((a, b) => a - b);
  const perSecond = phase.latencies.length / (phase.wallMs / 1000);
  const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1);
  const stats = {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
  console.log(
    `logins:      ${phase.latencies.length} ok, ${errorCount(phase)} errors in ` +
      `${fmt(phase.wallMs / 1000)} s` +
      ` = ${fmt(perSecond)} logins/s`,
  );
  printErrors('run', phase);
  console.log(
    'latency (POST /api/v1/auth/login only; the GET /api/v1/auth/csrf before each login is excluded):',
  );
  console.log(
    `  p50 ${fmt(stats.p50)} ms   p90 ${fmt(stats.p90)} ms   p99 ${fmt(stats.p99)} ms   ` +
      `max ${fmt(stats.max)} ms` +
      `   (mean ${fmt(mean)} ms)`,
  );

  stopped = await stopServer(server);
  const how = stopped.alreadyExited
    ? 'none needed: the process had already exited'
    : stopped.killed
      ? 'SIGTERM, no exit within 15 s, then SIGKILL'
      : `SIGTERM, exited in ${fmt(stopped.ms)} ms`;
  console.log(`server stop: ${how} (code ${stopped.code}, signal ${stopped.signal})`);
  if (stopped.killed || stopped.alreadyExited || stopped.code !== 0) {
    console.log(`WARNING: the server did not stop cleanly. Its last output:\n${server.output}`);
  }

  return {
    bench: 'login',
    date,
    ...m,
    argon2id: { m_kib: params.memoryCost, t: params.timeCost, p: params.parallelism },
    argon2id_verify_mean_ms: round1(argon.mean),
    backend: options.backend,
    concurrency: options.concurrency,
    users: options.users,
    seconds: round1(phase.wallMs / 1000),
    logins: phase.latencies.length,
    errors,
    logins_per_s: round1(perSecond),
    latency_ms: {
      p50: round1(stats.p50),
      p90: round1(stats.p90),
      p99: round1(stats.p99),
      max: round1(stats.max),
      mean: round1(mean),
    },
    csrf_get_excluded: true,
    server_exit: {
      code: stopped.code,
      signal: stopped.signal,
      killed: stopped.killed,
      already_exited: stopped.alreadyExited,
    },
  };
}

process.exit(
  await runBenchmark({
    name: 'login',
    help: HELP,
    parse: parseOptions,
    run,
    exitCode: (summary) => (summary.errors > 0 ? 1 : 0),
    report: (summary) => {
      if (summary.errors > 0) {
        console.log(`FAILED: ${summary.errors} error(s): a login or request did not answer 200 (see above)`);
      }
      console.log(JSON.stringify(summary));
    },
  }),
);
