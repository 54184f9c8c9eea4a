import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HealthResponse } from '@canopy/protocol';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, TEST_DATABASE_URL } from './backends';
import { Client } from './harness';
import { run, serve } from './process';

const PASSWORD = 'correct horse battery';

describe('canopy-cloud CLI', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-cli-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('names the bad variable when the configuration is wrong', async () => {
    const result = await run(['serve'], { PORT: 'eighty', DATABASE_URL: 'mysql://u:hunter2@h/db' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/PORT/);
    expect(result.stderr).toMatch(/DATABASE_URL: must be a URL starting with postgres/);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('says which server it cannot reach, without a stack trace or the password', async () => {
    const noPg = await run(['serve'], {
      DATABASE_URL: 'postgres://canopy:hunter2@127.0.0.1:1/canopy',
      PORT: '0',
    });
    expect(noPg.code).toBe(1);
    expect(noPg.stderr).toMatch(
      /Cannot migrate the database \(PostgreSQL at postgres:\/\/canopy:\*\*\*@127\.0\.0\.1:1\/canopy\)/,
    );
    expect(noPg.stderr).not.toMatch(/hunter2|\n\s+at /);
    const noRedis = await run(['serve'], {
      CANOPY_DATA_DIR: dataDir,
      REDIS_URL: 'redis://127.0.0.1:1',
      PORT: '0',
    });
    expect(noRedis.code).toBe(1);
    expect(noRedis.stderr).toMatch(/Cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
    expect(noRedis.stderr).not.toMatch(/\n\s+at /);
  });

  it('applies migrations with `migrate`', async () => {
    const result = await run(['migrate'], { CANOPY_DATA_DIR: dataDir });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/Migrations applied \(pglite\)/);
    expect(result.code).toBe(0);
  });

  it('creates an admin with the password from stdin, and refuses a weak one', async () => {
    const weak = await run(
      ['create-admin', '--email', 'weak@example.com'],
      { CANOPY_DATA_DIR: dataDir },
      'short\n',
    );
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/at least 10 characters/);
    const made = await run(
      ['create-admin', '--email', 'first@example.com'],
      { CANOPY_DATA_DIR: dataDir },
      `${PASSWORD}\n`,
    );
    expect(made.stderr).toBe('');
    expect(made.stdout).toMatch(/Created super_admin first@example.com/);
    const usage = await run(['create-admin'], { CANOPY_DATA_DIR: dataDir });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--email/);
  });

  it('serves, says how to create the first admin on an empty database, and creates one while running', async () => {
    const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-cli-empty-'));
    const server = await serve({ CANOPY_DATA_DIR: emptyDir });
    try {
      expect(server.output()).toMatch(/No accounts yet\. Create the first admin/);
      expect(server.output()).toMatch(/create-admin --email/);
      // PGlite belongs to the server: the CLI goes through its control socket.
      const made = await run(
        ['create-admin', '--email', 'live@example.com'],
        { CANOPY_DATA_DIR: emptyDir },
        `${PASSWORD}\n`,
      );
      expect(made.stderr).toBe('');
      expect(made.code).toBe(0);
      expect(made.stdout).toContain(`Log in at http://localhost:${new URL(server.url).port}/login`);
      const login = await new Client(server.url).login('live@example.com', PASSWORD);
      expect(login.status).toBe(200);
      expect(login.body.user.role).toBe('super_admin');
      // A second server on the same data folder is refused, not allowed to corrupt it.
      const second = await run(['migrate'], { CANOPY_DATA_DIR: emptyDir });
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/in use by another canopy-cloud process/);
    } finally {
      expect(await server.stop()).toBe(0);
      fs.rmSync(emptyDir, { recursive: true, force: true });
    }
    expect(server.output()).not.toContain(PASSWORD);
  });

  it('promotes an existing account instead of failing', async () => {
    const result = await run(
      ['create-admin', '--email', 'first@example.com'],
      { CANOPY_DATA_DIR: dataDir },
      `${PASSWORD}\n`,
    );
    expect(result.stdout).toMatch(/already a super_admin/);
  });
});

const real = (await backends()).some((b) => b.name === 'postgres+redis');

describe.runIf(real)('canopy-cloud CLI on PostgreSQL + Redis', () => {
  const name = `canopy_cli_${Date.now()}`;
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
  });
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  });

  it('uses DATABASE_URL and REDIS_URL when set', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-cli-pg-'));
    const env = {
      DATABASE_URL: url.toString(),
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      CANOPY_DATA_DIR: dataDir,
    };
    const server = await serve(env);
    try {
      const health = (await (await fetch(`${server.url}/healthz`)).json()) as HealthResponse;
      expect(health.checks.database.kind).toBe('postgres');
      expect(health.checks.stream_engine.kind).toBe('redis');
      const made = await run(['create-admin', '--email', 'pg@example.com'], env, `${PASSWORD}\n`);
      expect(made.code).toBe(0);
      expect((await new Client(server.url).login('pg@example.com', PASSWORD)).status).toBe(200);
      expect(fs.existsSync(path.join(dataDir, 'pglite'))).toBe(false);
    } finally {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
