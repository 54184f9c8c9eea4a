import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client';
import {
  canConfigs,
  commands,
  dongleSightings,
  dongles,
  dongleTokens,
  pairingSessions,
} from '../src/db/schema';
import { MemoryEngine } from '../src/engine';
import { backends, TEST_DATABASE_URL } from './backends';
import { Client, startTestCloud } from './harness';
import { run } from './process';
import { registerNode } from './raw-node';

// Backups on real PostgreSQL: `canopy-cloud migrate` behind a pg_dump, and infra/backup's scripts
// (back up, wipe, restore, compare every table's row count). Each test database is made here and dropped.
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const BACKUP_SH = path.join(REPO, 'infra/backup/canopy-backup.sh');
const RESTORE_SH = path.join(REPO, 'infra/backup/canopy-restore.sh');
/** The tables this test fills (through the API where it can); any other table is compared all the same. */
const FILLED = [
  'users',
  'sessions',
  'email_verification_tokens',
  'password_reset_tokens',
  'email_outbox',
  'audit_logs',
  'enrollment_keys',
  'agents',
  'agent_tokens',
  'tasks',
  'dongles',
  'dongle_sightings',
  'dongle_tokens',
  'pairing_sessions',
  'can_configs',
  'commands',
  'dongle_groups',
  'dongle_group_members',
];

const hasPostgres = (await backends()).some((b) => b.name === 'postgres+redis');
const tools = ['/usr/bin/pg_dump', '/usr/bin/pg_restore'].filter((t) => !fs.existsSync(t));
const missing = !hasPostgres
  ? 'PostgreSQL is unreachable'
  : tools.length > 0
    ? `${tools.join(', ')} absent (apt-get install postgresql-client)`
    : undefined;
if (missing && process.env.CI) throw new Error(`CI=true but ${missing}`);

async function admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A URL for a fresh database, with a password in it (trust auth ignores it) to check it is never shown. */
function dbUrl(name: string): { url: string; password: string } {
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${name}`;
  if (!u.password) u.password = `pw-${randomBytes(6).toString('hex')}`;
  return { url: u.toString(), password: decodeURIComponent(u.password) };
}

/** Row counts of every base table outside the system schemas (so new tables are covered unasked). */
async function rowCounts(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ s: string; t: string }>(
      `select table_schema as s, table_name as t from information_schema.tables
       where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
       order by 1, 2`,
    );
    const counts: Record<string, number> = {};
    for (const { s, t } of tables.rows) {
      const r = await client.query<{ n: string }>(`select count(*) as n from "${s}"."${t}"`);
      counts[s === 'public' ? t : `${s}.${t}`] = Number(r.rows[0]?.n);
    }
    return counts;
  } finally {
    await client.end();
  }
}

function script(file: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', [file, ...args], {
      env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(missing !== undefined)(
  `backups on PostgreSQL${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    const made: string[] = [];
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-backup-test-'));
    const freshDb = async () => {
      const name = `canopy_bk_${randomBytes(6).toString('hex')}`;
      await admin((c) => c.query(`create database ${name}`));
      made.push(name);
      return { name, ...dbUrl(name) };
    };
    const publicTables = async (url: string) =>
      Object.keys(await rowCounts(url)).filter((t) => !t.includes('.'));

    beforeAll(() => {
      // The CLI tests run the built CLI (npm run build first; npm test does).
      expect(fs.existsSync(path.join(REPO, 'apps/cloud/dist/cli.js'))).toBe(true);
    });

    afterAll(async () => {
      await admin(async (c) => {
        for (const name of made) await c.query(`drop database if exists ${name} with (force)`);
      });
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('`migrate` takes a pg_dump first, then migrates', async () => {
      const db = await freshDb();
      const backupDir = path.join(tmp, 'pre-migrate');
      const result = await run(['migrate'], { DATABASE_URL: db.url, BACKUP_DIR: backupDir });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const file = /Backup before migrating: (\S+canopy-pre-migrate-\d{8}T\d{6}Z\.dump) \(\d+ bytes\)/.exec(
        result.stdout,
      )?.[1];
      expect(file, result.stdout).toBeDefined();
      expect(path.dirname(file as string)).toBe(backupDir);
      expect(fs.statSync(file as string).mode & 0o777).toBe(0o600);
      expect(fs.statSync(backupDir).mode & 0o777).toBe(0o700);
      expect(spawnSync('pg_restore', ['--list', file as string]).status).toBe(0);
      expect(result.stdout).toMatch(/Migrations applied \(postgres\)/);
      expect(`${result.stdout}${result.stderr}`).not.toContain(db.password);
      expect(await publicTables(db.url)).toEqual(expect.arrayContaining(FILLED));
    });

    it('`migrate` refuses when the backup fails, and migrates without one only with --no-backup', async () => {
      const db = await freshDb();
      const notADir = path.join(tmp, 'a-file');
      fs.writeFileSync(notADir, 'not a folder');
      const refused = await run(['migrate'], { DATABASE_URL: db.url, BACKUP_DIR: notADir });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/the backup of postgres:\/\/.* failed, so nothing was migrated/);
      expect(refused.stderr).toMatch(/--no-backup/);
      expect(refused.stderr).not.toMatch(/\n\s+at /);
      expect(`${refused.stdout}${refused.stderr}`).not.toContain(db.password);
      expect(await publicTables(db.url)).toEqual([]);

      const forced = await run(['migrate', '--no-backup'], { DATABASE_URL: db.url, BACKUP_DIR: notADir });
      expect(forced.code).toBe(0);
      expect(forced.stdout).toMatch(/No pre-migration backup \(--no-backup\)/);
      expect(await publicTables(db.url)).toEqual(expect.arrayContaining(FILLED));
    });

    it('backs up with the script, wipes, restores, and every table has its rows again', async () => {
      const db = await freshDb();
      expect((await run(['migrate', '--no-backup'], { DATABASE_URL: db.url })).code).toBe(0);
      // The dongle tokens need their master key after a restore, as in production (docs/operations.md).
      const keys = { DONGLE_TOKEN_MASTER_KEY_V1: randomBytes(32).toString('base64') };

      // A real cloud on that database fills it: accounts, nodes and tasks through the API; the dongle side
      // (which needs a dongle on a LAN) by inserts.
      const database = await openDatabase({ kind: 'postgres', url: db.url, poolSize: 3 });
      const engine = new MemoryEngine();
      const [backend] = await backends();
      const cloud = await startTestCloud(backend as NonNullable<typeof backend>, keys, { database, engine });
      try {
        const alice = new Client(cloud.baseUrl);
        expect((await alice.signup('alice@example.com')).status).toBe(201);
        expect(
          (await alice.post('/api/v1/auth/password-reset/request', { email: 'alice@example.com' })).status,
        ).toBe(202);
        const aliceId = (await alice.get('/api/v1/auth/me')).body.user.id as string;
        const key = await alice.post('/api/v1/agents/enrollment-keys', { label: 'backup' });
        const node = await registerNode(cloud, key.body.secret, `bk-${randomBytes(3).toString('hex')}`);
        const task = await alice.post(`/api/v1/agents/${node.agentId}/tasks`, {
          type: 'system_info',
          payload: {},
        });
        expect(task.status).toBe(201);
        const ids: string[] = [];
        for (let i = 0; i < 2; i++) {
          const [row] = await database.db
            .insert(dongles)
            .values({
              deviceId: randomBytes(8).toString('hex'),
              ownerUserId: aliceId,
              ownershipState: 'CLAIMED_ACTIVE',
            })
            .returning();
          if (!row) throw new Error('no dongle row');
          ids.push(row.id);
          const createdAt = new Date();
          const sealed = cloud.keyring.seal(randomBytes(32), {
            dongleId: row.id,
            userId: aliceId,
            createdAt,
          });
          await database.db
            .insert(dongleTokens)
            .values({ dongleId: row.id, userId: aliceId, createdAt, ...sealed });
          await database.db.insert(dongleSightings).values({
            dongleId: row.id,
            agentId: node.agentId,
            lanIp: `192.168.1.${40 + i}`,
            udpPort: 51000,
            iface: 'eth0',
            pairingState: 'normal',
            online: true,
            lastSeenAt: new Date(),
          });
        }
        const [a, b] = ids as [string, string];
        await database.db.insert(pairingSessions).values({
          dongleId: a,
          userId: aliceId,
          agentId: node.agentId,
          expiresAt: new Date(Date.now() + 60_000),
        });
        await database.db.insert(canConfigs).values({
          dongleId: a,
          bitrate: 500_000,
          samplePointPermille: 875,
          mode: 'normal',
          useRaw: false,
          prescaler: 0,
          sjw: 0,
          tseg1: 0,
          tseg2: 0,
          autoRetx: true,
          txPause: false,
          protocolExc: false,
          appliedBy: aliceId,
          appliedAt: new Date(),
        });
        await database.db.insert(commands).values({
          dongleId: a,
          userId: aliceId,
          agentId: node.agentId,
          command: 'version',
          timeoutMs: 5000,
        });
        const group = await alice.post('/api/v1/groups', { name: 'bench', dongle_a_id: a, dongle_b_id: b });
        expect(group.status, group.text).toBe(201);
      } finally {
        await cloud.stop();
        await engine.close();
        await database.close();
      }

      const before = await rowCounts(db.url);
      const empty = FILLED.filter((t) => !(before[t] && before[t] > 0));
      expect(empty, 'tables this test should have filled').toEqual([]);
      expect(before['drizzle.__drizzle_migrations']).toBeGreaterThan(0);

      // Retention: a 15-day-old dump goes, a 13-day-old one stays, another file is never touched.
      const backupDir = path.join(tmp, 'daily');
      fs.mkdirSync(backupDir, { recursive: true });
      const aged = (name: string, days: number) => {
        const f = path.join(backupDir, name);
        fs.writeFileSync(f, 'old');
        const t = new Date(Date.now() - days * 86_400_000);
        fs.utimesSync(f, t, t);
        return f;
      };
      const old = aged('canopy-daily-20200101T000000Z.dump', 15);
      const recent = aged('canopy-daily-20200102T000000Z.dump', 13);
      const other = aged('notes.txt', 30);

      const env = { DATABASE_URL: db.url, BACKUP_DIR: backupDir };
      const backup = await script(BACKUP_SH, [], env);
      expect(backup.stderr).toBe('');
      expect(backup.code).toBe(0);
      const file = /wrote (\S+\.dump)/.exec(backup.stdout)?.[1] as string;
      expect(path.basename(file)).toMatch(/^canopy-daily-\d{8}T\d{6}Z\.dump$/);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.existsSync(old)).toBe(false);
      expect(fs.existsSync(recent)).toBe(true);
      expect(fs.existsSync(other)).toBe(true);
      expect(backup.stdout).toContain(`deleted (older than 14 days) ${old}`);
      expect(`${backup.stdout}${backup.stderr}`).not.toContain(db.password);

      // Wipe: the database dropped and made again, empty.
      await admin(async (c) => {
        await c.query(`drop database ${db.name} with (force)`);
        await c.query(`create database ${db.name}`);
      });
      expect(await rowCounts(db.url)).toEqual({});

      const unconfirmed = await script(RESTORE_SH, [file], env);
      expect(unconfirmed.code).toBe(2);
      expect(unconfirmed.stderr).toMatch(/--yes/);
      expect(await rowCounts(db.url)).toEqual({});

      const restore = await script(RESTORE_SH, ['--yes', file], env);
      expect(restore.stderr).toBe('');
      expect(restore.code).toBe(0);
      expect(await rowCounts(db.url)).toEqual(before);

      // The restored database serves: alice logs in on a cloud started on it.
      const reopened = await openDatabase({ kind: 'postgres', url: db.url, poolSize: 2 });
      const engine2 = new MemoryEngine();
      const again = await startTestCloud(backend as NonNullable<typeof backend>, keys, {
        database: reopened,
        engine: engine2,
      });
      try {
        expect((await new Client(again.baseUrl).login('alice@example.com')).status).toBe(200);
      } finally {
        await again.stop();
        await engine2.close();
        await reopened.close();
      }
    });

    it('the backup script refuses a folder inside the app and a bad retention, and fails cleanly without a server', async () => {
      const inside = await script(BACKUP_SH, [], {
        DATABASE_URL: dbUrl('x').url,
        BACKUP_DIR: path.join(REPO, 'data', 'bk'),
      });
      expect(inside.code).toBe(2);
      expect(inside.stderr).toMatch(/inside the app folder/);
      fs.rmSync(path.join(REPO, 'data', 'bk'), { recursive: true, force: true });
      const retention = await script(BACKUP_SH, [], {
        DATABASE_URL: dbUrl('x').url,
        BACKUP_DIR: path.join(tmp, 'r'),
        BACKUP_RETENTION_DAYS: 'two weeks',
      });
      expect(retention.code).toBe(2);
      const dir = path.join(tmp, 'unreachable');
      const down = await script(BACKUP_SH, [], {
        DATABASE_URL: 'postgres://canopy:hunter2@127.0.0.1:1/canopy',
        BACKUP_DIR: dir,
      });
      expect(down.code).toBe(1);
      expect(down.stderr).toMatch(/pg_dump .* failed/);
      expect(down.stderr).not.toContain('hunter2');
      expect(fs.readdirSync(dir)).toEqual([]);
    });
  },
);

describe('`migrate` on the embedded database', () => {
  it('says that it takes no backup there, and migrates', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-migrate-pglite-'));
    try {
      const result = await run(['migrate'], {
        CANOPY_DATA_DIR: dataDir,
        BACKUP_DIR: path.join(dataDir, 'never'),
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Embedded database \(PGlite in .*\): no pre-migration backup is taken/);
      expect(result.stdout).toMatch(/Migrations applied \(pglite\)/);
      expect(fs.existsSync(path.join(dataDir, 'never'))).toBe(false);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
