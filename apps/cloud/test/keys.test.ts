import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { type Database, type Db, openDatabase } from '../src/db/client';
import { auditLogs, dongles, dongleTokens, users } from '../src/db/schema';
import { MemoryEngine, type StreamEngine } from '../src/engine';
import type { MasterKey } from '../src/keys/envelope';
import { Keyring } from '../src/keys/keyring';
import { startCloud } from '../src/server';
import { type Backend, backends } from './backends';
import { LogSink, startTestCloud } from './harness';
import { run } from './process';

const TOKENS = 1000;
const key = (version: number): MasterKey => ({ version, bytes: randomBytes(32) });
const V1 = key(1);
const V2 = key(2);
const V3 = key(3);
const envOf = (...keys: MasterKey[]) =>
  Object.fromEntries(keys.map((k) => [`DONGLE_TOKEN_MASTER_KEY_V${k.version}`, k.bytes.toString('base64')]));

/**
 * Where the CLI process finds the suite's database. PostgreSQL: the suite's database by DATABASE_URL. Embedded:
 * a PGlite data folder (an in-memory one cannot be reached from another process), opened here only between
 * runs, because one process at a time may hold it.
 */
type Target = {
  env: Record<string, string>;
  /** PostgreSQL: the suite's database and engine, for a test cloud beside the CLI. */
  shared?: { database: Database; engine: StreamEngine };
  withDb<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  cleanup(): Promise<void>;
};

async function openTarget(backend: Backend): Promise<Target> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-keys-'));
  if (backend.name === 'postgres+redis') {
    const opened = await backend.open();
    await opened.database.migrate();
    return {
      env: { DATABASE_URL: opened.databaseUrl as string, CANOPY_DATA_DIR: dataDir },
      shared: { database: opened.database, engine: opened.engine },
      withDb: (fn) => fn(opened.database.db),
      cleanup: async () => {
        await opened.cleanup();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  return {
    env: { CANOPY_DATA_DIR: dataDir },
    withDb: async (fn) => {
      const database = await openDatabase({ kind: 'pglite', dataDir: path.join(dataDir, 'pglite') });
      try {
        await database.migrate();
        return await fn(database.db);
      } finally {
        await database.close();
      }
    },
    cleanup: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** An owner, `count` claimed dongles and their tokens sealed with `keyring`'s newest key; returns the plaintexts. */
async function seedTokens(
  db: Db,
  keyring: Keyring,
  count: number,
  tag: string,
): Promise<Map<string, Buffer>> {
  const [owner] = await db
    .insert(users)
    .values({ email: `owner-${tag}@example.com`, passwordHash: 'not a hash' })
    .returning({ id: users.id });
  const userId = owner?.id as string;
  const plaintexts = new Map<string, Buffer>();
  const base = Date.parse('2025-01-01T00:00:00.000Z');
  for (let start = 0; start < count; start += 250) {
    const size = Math.min(250, count - start);
    const made = await db
      .insert(dongles)
      .values(
        Array.from({ length: size }, () => ({
          deviceId: randomBytes(8).toString('hex'),
          ownerUserId: userId,
          ownershipState: 'CLAIMED_ACTIVE' as const,
        })),
      )
      .returning({ id: dongles.id });
    const rows = made.map((d, i) => {
      const token = randomBytes(32);
      const createdAt = new Date(base + start + i);
      const sealed = keyring.seal(token, { dongleId: d.id, userId, createdAt });
      return { dongleId: d.id, userId, createdAt, ...sealed, token };
    });
    const inserted = await db
      .insert(dongleTokens)
      .values(rows.map(({ token: _t, ...row }) => row))
      .returning({ id: dongleTokens.id, dongleId: dongleTokens.dongleId });
    for (const row of inserted)
      plaintexts.set(row.id, rows.find((r) => r.dongleId === row.dongleId)?.token as Buffer);
  }
  return plaintexts;
}

const BIN = fileURLToPath(new URL('../bin/canopy-cloud.js', import.meta.url));

/** `canopy-cloud serve` that must exit on its own; killed after `ms` if it does not (a failed test, no orphan). */
function serveExpectingExit(env: Record<string, string>, ms = 20_000) {
  const { DATABASE_URL: _d, REDIS_URL: _r, ...rest } = process.env;
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...rest, LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** `canopy-cloud rotate-keys`, interrupted with SIGINT (Ctrl-C) once its first progress line is out. */
function rotateAndInterrupt(args: string[], env: Record<string, string>) {
  const { DATABASE_URL: _d, REDIS_URL: _r, ...rest } = process.env;
  const child = spawn(process.execPath, [BIN, 'rotate-keys', ...args], {
    env: { ...rest, LOG_LEVEL: 'info', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    if (/^rotated /m.test(stdout) && !child.killed) child.kill('SIGINT');
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

function expectNoSecrets(text: string, plaintexts: Iterable<Buffer>, keys: MasterKey[]) {
  for (const k of keys) {
    expect(text).not.toContain(k.bytes.toString('base64'));
    expect(text).not.toContain(k.bytes.toString('hex'));
  }
  for (const token of plaintexts) {
    expect(text).not.toContain(token.toString('base64'));
    expect(text).not.toContain(token.toString('hex'));
  }
}

describe.each(await backends())('dongle token keys on $name', (backend) => {
  let target: Target;
  let plaintexts: Map<string, Buffer>;
  let tamperedId: string;

  beforeAll(async () => {
    target = await openTarget(backend);
    await target.withDb(async (db) => {
      plaintexts = await seedTokens(db, new Keyring([V1], { kind: 'env' }), TOKENS + 1, 'rotation');
      // One token whose ciphertext was altered at rest: it must be reported, not rotated, and not stop the run.
      tamperedId = [...plaintexts.keys()][TOKENS >> 1] as string;
      const [row] = await db.select().from(dongleTokens).where(eq(dongleTokens.id, tamperedId));
      const ciphertext = Buffer.from(row?.ciphertext as Buffer);
      ciphertext[3] = (ciphertext[3] ?? 0) ^ 0xff;
      await db.update(dongleTokens).set({ ciphertext }).where(eq(dongleTokens.id, tamperedId));
    });
  });
  afterAll(() => target?.cleanup());

  it('counts with --dry-run what would change, and changes nothing', async () => {
    const result = await run(['rotate-keys', '--dry-run'], { ...target.env, ...envOf(V1, V2) });
    expect(result.stdout).toContain(
      `Dry run: ${TOKENS + 1} dongle token(s) would be re-encrypted to key version 2 (V1: ${TOKENS + 1})`,
    );
    expect(result.code).toBe(0);
    const versions = await target.withDb((db) =>
      db.select({ v: dongleTokens.keyVersion }).from(dongleTokens),
    );
    expect(new Set(versions.map((r) => r.v))).toEqual(new Set([1]));
    expect(
      await target.withDb((db) => db.select().from(auditLogs).where(eq(auditLogs.action, 'keys.rotated'))),
    ).toEqual([]);
  });

  it('re-encrypts 1,000 tokens from V1 to V2 in batches, reports the tampered one and exits non-zero', async () => {
    const result = await run(['rotate-keys', '--batch', '250'], { ...target.env, ...envOf(V1, V2) });
    expect(result.stderr).toContain(
      `failed: dongle token ${tamperedId} (key version 1): TOKEN_DECRYPT_FAILED`,
    );
    const progress = result.stdout.split('\n').filter((l) => l.startsWith('rotated '));
    expect(progress).toHaveLength(5);
    expect(progress[0]).toMatch(/^rotated \d+\/1001/);
    expect(progress.at(-1)).toBe(`rotated ${TOKENS}/${TOKENS + 1} (1 failed) …`);
    expect(result.stdout).toContain(
      `Done: rotated ${TOKENS} of ${TOKENS + 1} dongle token(s) to key version 2 (from V1: ${TOKENS + 1}), 1 failed, 1 left on older key versions.`,
    );
    expect(result.code).toBe(1);
    expectNoSecrets(result.stdout + result.stderr, plaintexts.values(), [V1, V2]);

    const onlyV2 = new Keyring([V2], { kind: 'env' });
    await target.withDb(async (db) => {
      const rows = await db.select().from(dongleTokens);
      expect(rows).toHaveLength(TOKENS + 1);
      for (const row of rows) {
        if (row.id === tamperedId) {
          expect(row.keyVersion).toBe(1);
          expect(row.rotatedAt).toBeNull();
          continue;
        }
        expect(row.keyVersion).toBe(2);
        expect(row.rotatedAt).toBeInstanceOf(Date);
        const opened = onlyV2.open(row, {
          dongleId: row.dongleId,
          userId: row.userId,
          createdAt: row.createdAt,
        });
        expect(opened.equals(plaintexts.get(row.id) as Buffer)).toBe(true);
      }
      const audit = await db.select().from(auditLogs).where(eq(auditLogs.action, 'keys.rotated'));
      expect(audit).toHaveLength(1);
      expect(audit[0]?.details).toMatchObject({
        from_versions: [1],
        to_version: 2,
        count: TOKENS,
        failed: 1,
        failed_ids: [tamperedId],
        remaining: 1,
      });
      expectNoSecrets(JSON.stringify(audit), plaintexts.values(), [V1, V2]);
    });
  });

  it('rotates nothing on a second run once every token is on the newest key', async () => {
    await target.withDb((db) => db.delete(dongleTokens).where(eq(dongleTokens.id, tamperedId)));
    const result = await run(['rotate-keys'], { ...target.env, ...envOf(V1, V2) });
    expect(result.stdout).toContain(
      'Done: rotated 0 of 0 dongle token(s) to key version 2, 0 failed, 0 left',
    );
    expect(result.code).toBe(0);
    const audit = await target.withDb((db) =>
      db.select().from(auditLogs).where(eq(auditLogs.action, 'keys.rotated')),
    );
    expect(audit.map((a) => a.details.count).sort()).toEqual([0, TOKENS]);
  });

  it('works while the server runs (embedded: the server does it, through its control socket)', async () => {
    const cloud = await startTestCloud(backend, envOf(V1, V2), target.shared);
    try {
      const seeded = await seedTokens(cloud.database.db, new Keyring([V1], { kind: 'env' }), 20, 'live');
      const embedded = backend.name === 'embedded';
      const result = await run(['rotate-keys', '--batch', '7'], {
        ...(embedded ? { CANOPY_DATA_DIR: cloud.dataDir } : target.env),
        ...envOf(V1, V2),
      });
      expect(result.stderr).not.toMatch(/"level":(40|50)/);
      expect(result.stdout.includes('(carried out by the running server)')).toBe(embedded);
      expect(result.stdout).toContain('rotated 20/20 …');
      expect(result.stdout).toContain('Done: rotated 20 of 20');
      expect(result.code).toBe(0);
      const rows = await cloud.database.db.select().from(dongleTokens);
      expect(rows.every((r) => r.keyVersion === 2)).toBe(true);
      for (const row of rows.filter((r) => seeded.has(r.id))) {
        const aad = { dongleId: row.dongleId, userId: row.userId, createdAt: row.createdAt };
        expect(cloud.keyring.open(row, aad).equals(seeded.get(row.id) as Buffer)).toBe(true);
      }
      if (embedded) expect(cloud.logs.text()).toMatch(/keys\.rotate: batch committed/);
      expectNoSecrets(cloud.logs.text() + result.stdout + result.stderr, seeded.values(), [V1, V2]);
    } finally {
      await cloud.stop();
    }
  });

  it('refuses to start while a token uses a key version it lacks, naming it', async () => {
    await target.withDb((db) => seedTokens(db, new Keyring([V3], { kind: 'env' }), 1, 'v3'));
    const refused = await serveExpectingExit({ ...target.env, ...envOf(V1, V2) });
    expect(refused.stderr).toMatch(
      /DONGLE_TOKEN_MASTER_KEY_V3: not set, but 1 dongle token is encrypted with key version 3 \(keys set: V1, V2\)/,
    );
    expect(refused.stderr).toContain('docs/configuration.md#dongle-token-encryption');
    expect(refused.code).toBe(2);
    expectNoSecrets(refused.stdout + refused.stderr, [], [V1, V2]);

    // The right version number with the wrong bytes (a mistyped variable, a key file made afresh) is refused too.
    const wrongV3 = key(3);
    const wrong = await serveExpectingExit({ ...target.env, ...envOf(V1, V2, wrongV3) });
    expect(wrong.stderr).toMatch(
      /DONGLE_TOKEN_MASTER_KEY_V3 does not open the stored tokens of key version 3 .*it is not the key they were sealed with/,
    );
    expect(wrong.code).toBe(2);
    expectNoSecrets(wrong.stdout + wrong.stderr, [], [V1, V2, V3, wrongV3]);

    // With V3 supplied it starts, and hands its keyring out.
    await target.withDb(async (db) => {
      const engine = new MemoryEngine();
      const config = loadConfig({ ...target.env, PORT: '0', ...envOf(V1, V2, V3) });
      const database = { db, kind: backend.name === 'embedded' ? 'pglite' : 'postgres' } as const;
      const cloud = await startCloud(config, {
        database: { ...database, migrate: async () => {}, ping: async () => {}, close: async () => {} },
        engine,
        logDestination: new LogSink(),
      });
      try {
        expect(cloud.keyring.versions).toEqual([1, 2, 3]);
        expect(cloud.keyring.newest.version).toBe(3);
      } finally {
        await cloud.close();
        await engine.close();
      }
    });
  });

  it('stops cleanly on Ctrl-C after the batch in progress, and a rerun finishes the job', async () => {
    const keys = envOf(V1, V2, V3);
    const stopped = await rotateAndInterrupt(['--batch', '5'], { ...target.env, ...keys });
    expect(stopped.stdout).toMatch(/Stopped early: rotated \d+ of \d+ dongle token\(s\) to key version 3/);
    expect(stopped.stdout).toContain('Run `canopy-cloud rotate-keys` again to continue.');
    expect(stopped.code).toBe(130);
    const counts = async () =>
      target.withDb(async (db) => {
        const rows = await db.select({ v: dongleTokens.keyVersion }).from(dongleTokens);
        return { v3: rows.filter((r) => r.v === 3).length, total: rows.length };
      });
    const midway = await counts();
    expect(midway.v3).toBeGreaterThan(1);
    expect(midway.v3).toBeLessThan(midway.total);
    expect(midway.v3 % 5).toBe(1); // whole batches of 5, plus the token sealed with V3 from the start

    const rest = await run(['rotate-keys'], { ...target.env, ...keys });
    expect(rest.code).toBe(0);
    expect(rest.stdout).toMatch(/, 0 failed, 0 left on older key versions/);
    expect(await counts()).toEqual({ v3: midway.total, total: midway.total });
    const onlyV3 = new Keyring([V3], { kind: 'env' });
    await target.withDb(async (db) => {
      for (const row of await db.select().from(dongleTokens)) {
        const aad = { dongleId: row.dongleId, userId: row.userId, createdAt: row.createdAt };
        const opened = onlyV3.open(row, aad);
        if (plaintexts.has(row.id)) expect(opened.equals(plaintexts.get(row.id) as Buffer)).toBe(true);
      }
      const audit = await db.select().from(auditLogs).where(eq(auditLogs.action, 'keys.rotated'));
      expect(audit.filter((a) => a.details.interrupted === true)).toHaveLength(1);
    });
  });

  it('refuses in-process start-up with a ConfigError too', async () => {
    await target.withDb(async (db) => {
      const engine = new MemoryEngine();
      const config = loadConfig({ ...target.env, PORT: '0', ...envOf(V1, V2) });
      const database = {
        db,
        kind: backend.name === 'embedded' ? ('pglite' as const) : ('postgres' as const),
        migrate: async () => {},
        ping: async () => {},
        close: async () => {},
      };
      await expect(
        startCloud(config, { database, engine, logDestination: new LogSink() }),
      ).rejects.toBeInstanceOf(ConfigError);
      await engine.close();
    });
  });
});
