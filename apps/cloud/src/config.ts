import path from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().min(1);
const url = (protocols: string[]) =>
  z.url().refine((value) => URL.canParse(value) && protocols.includes(new URL(value).protocol), {
    message: `must be a URL starting with ${protocols.join(' or ')}`,
  });

/** Every environment variable canopy-cloud reads. Nothing else in the app reads process.env. */
const EnvSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  CANOPY_DATA_DIR: z.string().min(1).default('data'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  REDIS_KEY_PREFIX: z.string().min(1).max(100).default('canopy:'),
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  MAIL_FROM: z.string().min(3).default('Canopy <no-reply@canopy.localhost>'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SESSION_TTL_HOURS: positiveInt.max(24 * 90).default(24 * 7),
  TRUST_PROXY: z.string().default('loopback'),
  BODY_LIMIT_KB: positiveInt.max(100 * 1024).default(256),
  RATE_LIMIT_LOGIN_MAX: positiveInt.default(10),
  RATE_LIMIT_SIGNUP_MAX: positiveInt.default(5),
  RATE_LIMIT_PASSWORD_RESET_MAX: positiveInt.default(3),
  RATE_LIMIT_REGISTER_MAX: positiveInt.default(30),
  AGENT_SESSION_TTL_S: z.coerce.number().int().min(5).max(86_400).default(3600),
  AGENT_PING_INTERVAL_S: positiveInt.max(3600).default(30),
  AGENT_IDLE_TIMEOUT_S: positiveInt.max(3600).default(90),
  AGENT_QUEUE_MAX: positiveInt.max(100_000).default(1000),
  AGENT_HANDSHAKE_CONCURRENCY: positiveInt.max(1000).default(16),
  AGENT_HANDSHAKE_QUEUE_MAX: positiveInt.max(1_000_000).default(20_000),
  /** The CAN relay (spec 002 §13.3): replay rate after a reconnect, and the buffer's retention per direction. */
  RELAY_REPLAY_RATE: positiveInt.max(1_000_000).default(5000),
  RELAY_MAX_FRAMES: positiveInt.max(10_000_000).default(200_000),
  RELAY_MAX_AGE_S: positiveInt.max(86_400).default(600),
  /** Bearer token for GET /metrics; unset: /metrics answers only direct (unproxied) loopback requests. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
  /** Where `canopy-cloud migrate` writes its pre-migration pg_dump (outside the app folder). */
  BACKUP_DIR: z.string().min(1).default('/var/backups/canopy'),
});

/** The names of the variables above (docs/operations.md lists each one; a test holds it to that). */
export const ENV_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

export type Config = {
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  sessionTtlMs: number;
  trustProxy: string | boolean;
  bodyLimitBytes: number;
  rateLimits: { login: number; signup: number; passwordReset: number; register: number };
  agents: {
    sessionTtlMs: number;
    pingIntervalMs: number;
    idleTimeoutMs: number;
    queueMax: number;
    handshakeConcurrency: number;
    handshakeQueueMax: number;
    wsUrl: string;
  };
  relay: { replayRate: number; maxFrames: number; maxAgeMs: number };
  metricsToken: string | undefined;
  backupDir: string;
  /**
   * The dongle-token master keys from `DONGLE_TOKEN_MASTER_KEY_V<n>`, lowest version first; empty when none
   * is set (the key file in the data folder is used then: see keys/keyring.ts).
   */
  dongleTokenKeys: ReadonlyArray<{ readonly version: number; readonly bytes: Buffer }>;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once at start-up; a bad value is reported with the variable's name. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const relevant = Object.fromEntries(
    Object.keys(EnvSchema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const parsed = EnvSchema.safeParse(relevant);
  const keys = parseMasterKeys(env);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map(
          (issue) => `${String(issue.path[0])}: ${issue.message} (got "${describe(env, issue.path[0])}")`,
        )),
    ...keys.problems,
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const trustProxy = e.TRUST_PROXY === 'true' ? true : e.TRUST_PROXY === 'false' ? false : e.TRUST_PROXY;
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    dataDir: path.resolve(e.CANOPY_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    logLevel: e.LOG_LEVEL,
    sessionTtlMs: e.SESSION_TTL_HOURS * 3600_000,
    trustProxy,
    bodyLimitBytes: e.BODY_LIMIT_KB * 1024,
    rateLimits: {
      login: e.RATE_LIMIT_LOGIN_MAX,
      signup: e.RATE_LIMIT_SIGNUP_MAX,
      passwordReset: e.RATE_LIMIT_PASSWORD_RESET_MAX,
      register: e.RATE_LIMIT_REGISTER_MAX,
    },
    agents: {
      sessionTtlMs: e.AGENT_SESSION_TTL_S * 1000,
      pingIntervalMs: e.AGENT_PING_INTERVAL_S * 1000,
      idleTimeoutMs: e.AGENT_IDLE_TIMEOUT_S * 1000,
      queueMax: e.AGENT_QUEUE_MAX,
      handshakeConcurrency: e.AGENT_HANDSHAKE_CONCURRENCY,
      handshakeQueueMax: e.AGENT_HANDSHAKE_QUEUE_MAX,
      wsUrl: `${publicUrl.replace(/^http/, 'ws')}/ws/agent`,
    },
    relay: {
      replayRate: e.RELAY_REPLAY_RATE,
      maxFrames: e.RELAY_MAX_FRAMES,
      maxAgeMs: e.RELAY_MAX_AGE_S * 1000,
    },
    metricsToken: e.METRICS_TOKEN,
    backupDir: path.resolve(e.BACKUP_DIR),
    dongleTokenKeys: keys.keys,
  };
}

const MASTER_KEY_PREFIX = 'DONGLE_TOKEN_MASTER_KEY';
const MASTER_KEY_NAME = /^DONGLE_TOKEN_MASTER_KEY_V([1-9][0-9]{0,5})$/;

/**
 * `DONGLE_TOKEN_MASTER_KEY_V1`, `_V2`, …: base64 of exactly 32 bytes each. A bad one is named, never echoed; a
 * misspelt name is an error too, or a production key would be silently replaced by the data folder's.
 */
function parseMasterKeys(env: Record<string, string | undefined>) {
  const keys: Array<{ version: number; bytes: Buffer }> = [];
  const problems: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(MASTER_KEY_PREFIX)) continue;
    const value = env[name]?.trim();
    if (!value) continue;
    const match = MASTER_KEY_NAME.exec(name);
    if (!match) {
      problems.push(
        `${name}: not a key name canopy-cloud knows; name master keys ${MASTER_KEY_PREFIX}_V1, ${MASTER_KEY_PREFIX}_V2, …`,
      );
      continue;
    }
    const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : undefined;
    if (!bytes || bytes.toString('base64').replace(/=+$/, '') !== value.replace(/=+$/, '')) {
      problems.push(
        `${name}: must be base64 (generate a key with \`openssl rand -base64 32\`); value not shown`,
      );
      continue;
    }
    if (bytes.length !== 32) {
      problems.push(
        `${name}: must be base64 of exactly 32 bytes, this one decodes to ${bytes.length}; value not shown`,
      );
      bytes.fill(0);
      continue;
    }
    keys.push(secretKey(Number(match[1]), bytes));
  }
  keys.sort((a, b) => a.version - b.version);
  return { keys, problems };
}

/** A key object that prints as `[redacted]` if it ever reaches a log line or a console. */
function secretKey(version: number, bytes: Buffer) {
  const key = { version, bytes };
  const shown = () => ({ version, bytes: '[redacted]' });
  Object.defineProperty(key, 'toJSON', { value: shown, enumerable: false });
  Object.defineProperty(key, inspect.custom, { value: shown, enumerable: false });
  return key;
}

/** URLs may carry passwords (postgres://user:pass@host) and tokens are secrets: never echo those back. */
function describe(env: Record<string, string | undefined>, key: PropertyKey | undefined): string {
  const value = env[String(key)] ?? '';
  if (/TOKEN$/.test(String(key))) return '[value not shown]';
  return /URL$/.test(String(key)) ? redactUrl(value) : value;
}

export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return value.replace(/\/\/[^@/]*@/, '//***@');
  }
}
