import { fileURLToPath } from 'node:url';
import { ErrorBody } from '@canopy/protocol';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findWebDist } from '../src/web/static';
import { backends } from './backends';
import { Client, startTestCloud, type TestCloud } from './harness';

// npm test builds the dashboard first; a bare `vitest run` without a build skips the asset test.
const webBuilt = findWebDist(fileURLToPath(new URL('.', import.meta.url))) !== undefined;

describe.each(await backends())('API basics on $name', (backend) => {
  let cloud: TestCloud;
  let client: Client;

  beforeAll(async () => {
    cloud = await startTestCloud(backend, { BODY_LIMIT_KB: '4' });
    client = new Client(cloud.baseUrl);
  });
  afterAll(() => cloud?.stop());

  it('reports database and stream engine health', async () => {
    const reply = await client.get('/healthz');
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('ok');
    expect(reply.body.checks.database.ok).toBe(true);
    expect(reply.body.checks.stream_engine.ok).toBe(true);
    expect(reply.body.checks.database.kind).toBe(backend.name === 'embedded' ? 'pglite' : 'postgres');
    expect((await client.get('/readyz')).status).toBe(200);
  });

  it('answers an unknown API route with 404 NOT_FOUND in the standard body', async () => {
    const reply = await client.get('/api/v1/no/such/thing');
    expect(reply.status).toBe(404);
    expect(ErrorBody.parse(reply.body).code).toBe('NOT_FOUND');
    expect(reply.body.message).toContain('/api/v1/no/such/thing');
    expect((await client.get('/api/v2/users')).body.code).toBe('NOT_FOUND');
  });

  it('answers malformed JSON with 400 VALIDATION_ERROR', async () => {
    const reply = await client.request('POST', '/api/v1/auth/login', { raw: '{"email": "a@b.c",' });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('VALIDATION_ERROR');
    expect(reply.body.details.fields[0].message).toMatch(/malformed JSON/);
  });

  it('names every offending field of a schema violation', async () => {
    const reply = await client.post('/api/v1/auth/signup', { email: 'not-an-email', password: 'short' });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('VALIDATION_ERROR');
    const paths = reply.body.details.fields.map((f: { path: string }) => f.path).sort();
    expect(paths).toEqual(['email', 'password']);
  });

  it('answers an oversized body with 413 PAYLOAD_TOO_LARGE', async () => {
    const reply = await client.post('/api/v1/auth/login', { email: 'a@b.co', password: 'x'.repeat(10_000) });
    expect(reply.status).toBe(413);
    expect(reply.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('honours X-Request-ID, returns it and puts it on every log line of the request', async () => {
    const id = `test-${Date.now()}`;
    const reply = await client.post(
      '/api/v1/auth/login',
      { email: 'nobody@example.com', password: 'whatever1234' },
      {
        headers: { 'x-request-id': id },
      },
    );
    expect(reply.status).toBe(401);
    expect(reply.headers.get('x-request-id')).toBe(id);
    const lines = cloud.logs.lines.filter((l) => JSON.stringify(l).includes(id));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line.request_id).toBe(id);
    expect(lines.some((l) => l.msg === 'request completed')).toBe(true);
  });

  it('replaces an unsafe X-Request-ID with its own', async () => {
    const reply = await client.get('/api/v1/auth/me', {
      headers: { 'x-request-id': 'bad id; with "quotes" and spaces' },
    });
    expect(reply.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers an unexpected failure with 500 INTERNAL_ERROR and no stack trace', async () => {
    await cloud.database.db.execute(sql`alter table users rename to users_away`);
    try {
      const reply = await client.post('/api/v1/auth/login', {
        email: 'x@example.com',
        password: 'whatever1234',
      });
      expect(reply.status).toBe(500);
      expect(reply.body.code).toBe('INTERNAL_ERROR');
      expect(reply.text).not.toMatch(/users_away|\bat \w|\.ts:\d+/);
      const logged = cloud.logs.lines.find((l) => l.msg === 'request failed');
      expect(JSON.stringify(logged)).toMatch(/users/);
    } finally {
      await cloud.database.db.execute(sql`alter table users_away rename to users`);
    }
  });

  it.runIf(webBuilt)('answers a missing dashboard asset with 404 NOT_FOUND', async () => {
    const reply = await client.get('/assets/no-such-file.js');
    expect(reply.status).toBe(404);
    expect(reply.body.code).toBe('NOT_FOUND');
  });

  it('serves the dashboard (or a clear note) for non-API paths', async () => {
    const reply = await client.get('/nodes');
    expect([200, 503]).toContain(reply.status);
    expect(reply.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('reports a failing stream engine as 503 naming it', async () => {
    const other = await startTestCloud(backend);
    try {
      await other.engine.close();
      const reply = await new Client(other.baseUrl).get('/healthz');
      expect(reply.status).toBe(503);
      expect(reply.body.failing).toEqual(['stream_engine']);
    } finally {
      await other.stop().catch(() => {});
    }
  });
});
