import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Database, openDatabase } from '../src/db/client';
import { MemoryEngine, RedisEngine, type StreamEngine } from '../src/engine';

/**
 * Every integration suite runs on each backend: the embedded defaults (PGlite + in-process engine) and real
 * PostgreSQL + Redis. Without CI, an unreachable PostgreSQL or Redis skips that backend with a warning;
 * with CI=true it fails.
 */
export type Backend = {
  name: 'embedded' | 'postgres+redis';
  open(): Promise<{
    database: Database;
    engine: StreamEngine;
    databaseUrl?: string;
    cleanup(): Promise<void>;
  }>;
};

export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const embedded: Backend = {
  name: 'embedded',
  async open() {
    const database = await openDatabase({ kind: 'pglite' });
    const engine = new MemoryEngine();
    return {
      database,
      engine,
      cleanup: async () => {
        await engine.close();
        await database.close();
      },
    };
  },
};

/** A fresh database per suite on the test server, dropped afterwards; Redis keys under a suite prefix. */
const postgresRedis: Backend = {
  name: 'postgres+redis',
  async open() {
    const name = `canopy_t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${name}`;
    const database = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 5 });
    const engine = await RedisEngine.connect(TEST_REDIS_URL, { prefix: `canopy-test:${name}:` });
    return {
      database,
      engine,
      databaseUrl: url.toString(),
      cleanup: async () => {
        await engine.clearPrefix();
        await engine.close();
        await database.close();
        const drop = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await drop.connect();
        await drop.query(`drop database if exists ${name} with (force)`);
        await drop.end();
      },
    };
  },
};

async function reachable(): Promise<string | undefined> {
  const problems: string[] = [];
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    problems.push(`PostgreSQL at ${TEST_DATABASE_URL}: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
  try {
    const engine = await RedisEngine.connect(TEST_REDIS_URL);
    await engine.ping();
    await engine.close();
  } catch (err) {
    problems.push(`Redis at ${TEST_REDIS_URL}: ${(err as Error).message}`);
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}

let cached: Promise<Backend[]> | undefined;

export function backends(): Promise<Backend[]> {
  cached ??= (async () => {
    const problem = await reachable();
    if (!problem) return [embedded, postgresRedis];
    if (process.env.CI) throw new Error(`CI=true but the real backends are unreachable: ${problem}`);
    console.warn(`\n!! Skipping the PostgreSQL + Redis runs: ${problem}\n!! (CI=true makes this an error)\n`);
    return [embedded];
  })();
  return cached;
}
