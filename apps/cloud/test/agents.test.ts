import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { AgentCloseCode } from '@canopy/protocol';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { agentTokens, enrollmentKeys } from '../src/db/schema';
import { backends } from './backends';
import { Client, type Json, startTestCloud, type TestCloud } from './harness';
import { DataSocket, fingerprintOf, RawNode, registerNode } from './raw-node';

const PASSWORD = 'correct horse battery';
let n = 0;

describe.each(await backends())('agents on $name', (backend) => {
  let cloud: TestCloud;
  let owner: Client;
  let key: string;

  beforeAll(async () => {
    cloud = await startTestCloud(backend, {
      AGENT_QUEUE_MAX: '3',
      AGENT_SESSION_TTL_S: '600',
      AGENT_HANDSHAKE_CONCURRENCY: '1',
    });
    owner = new Client(cloud.baseUrl);
    await owner.signup('owner@example.com', PASSWORD);
    const created = await owner.post('/api/v1/agents/enrollment-keys', { label: 'workshop' });
    expect(created.status).toBe(201);
    key = created.body.secret;
  });
  afterAll(() => cloud?.stop());

  const register = (hostname = `host-${++n}`): Promise<RawNode> => registerNode(cloud, key, hostname);

  it('shows an enrollment key once, stores only its hash, and lists it by prefix', async () => {
    expect(key).toMatch(/^cnp_[A-Za-z0-9_-]{43}$/);
    const list = await owner.get('/api/v1/agents/enrollment-keys');
    expect(list.body.keys[0]).toMatchObject({
      label: 'workshop',
      prefix: key.slice(0, 10),
      revoked_at: null,
    });
    expect(JSON.stringify(list.body)).not.toContain(key);
    const rows = await cloud.database.db.select().from(enrollmentKeys);
    expect(JSON.stringify(rows)).not.toContain(key);
  });

  it('registers a node with a token stored hashed, and refuses a revoked key', async () => {
    const node = await register();
    expect(node.agentToken).toMatch(/^cnt_/);
    const stored = await cloud.database.db
      .select()
      .from(agentTokens)
      .where(eq(agentTokens.agentId, node.agentId));
    expect(JSON.stringify(stored)).not.toContain(node.agentToken);

    const other = await owner.post('/api/v1/agents/enrollment-keys', {});
    await owner.request('DELETE', `/api/v1/agents/enrollment-keys/${other.body.key.id}`);
    const refused = await fetch(`${cloud.baseUrl}/api/v1/agents/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        enrollment_key: other.body.secret,
        hostname: 'x',
        os: 'y',
        version: '1',
        fingerprint: fingerprintOf('x'),
      }),
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as Json).code).toBe('ENROLLMENT_KEY_INVALID');
  });

  it('welcomes a node on WS with a short-lived session token and marks it online over ws', async () => {
    const node = await register('welcome-host');
    const welcome = await node.connect();
    expect(welcome).toMatchObject({ type: 'welcome', agent_id: node.agentId, name: 'welcome-host' });
    if (welcome.type !== 'welcome') throw new Error('not a welcome');
    expect(welcome.token).toMatch(/^cns_/);
    const ttl = Date.parse(welcome.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(600_000);
    const list = await owner.get('/api/v1/agents');
    expect(list.body.agents.find((a: { id: string }) => a.id === node.agentId)).toMatchObject({
      online: true,
      connection_type: 'ws',
      os: 'Linux 6.1 (x64)',
    });
    node.ws?.close();
  });

  it('refuses a WS without a valid token or from another machine, with a code', async () => {
    const node = await register();
    await expect(node.connect({ token: 'cnt_nope' })).rejects.toMatchObject({
      status: 401,
      body: { code: 'AGENT_TOKEN_INVALID' },
    });
    await expect(node.connect({ fingerprint: fingerprintOf('elsewhere') })).rejects.toMatchObject({
      status: 401,
      body: { code: 'AGENT_FINGERPRINT_MISMATCH' },
    });
  });

  it('answers an upgrade to a path no gateway serves with 404 NOT_FOUND', async () => {
    const reply = await new Promise<{ status: number; body: Json }>((resolve, reject) => {
      const ws = new WebSocket(`${cloud.baseUrl.replace('http', 'ws')}/ws/nothing-here`);
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }));
      });
      ws.on('open', () => reject(new Error('opened')));
      ws.on('error', () => {});
    });
    expect(reply).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  });

  it('replaces the first connection of an agent by the second with close code 4000', async () => {
    const node = await register();
    await node.connect();
    const first = node.ws;
    const firstClosed = new Promise<number>((resolve) => first?.once('close', (code) => resolve(code)));
    const second = new RawNode(cloud, node.agentId, node.agentToken, node.fingerprint);
    await second.connect();
    expect(await firstClosed).toBe(AgentCloseCode.REPLACED);
    second.ws?.close();
  });

  it("orders a node's connections by its own attempt stamp: a stale attempt read late does not take over", async () => {
    const node = await register();
    const now = Date.now();
    await node.connect({ attempt: now });
    const live = node.ws;
    // The request of an earlier attempt (say, one the node gave up on) reaches the cloud after the live one.
    const stale = new RawNode(cloud, node.agentId, node.agentToken, node.fingerprint);
    void stale.connect({ attempt: now - 5000 }).catch(() => {});
    const staleClosed = stale.closed();
    expect(await staleClosed).toBe(AgentCloseCode.REPLACED);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(node.closeCode).toBeUndefined();
    expect(live?.readyState).toBe(WebSocket.OPEN);
    // A later attempt still replaces it.
    const next = new RawNode(cloud, node.agentId, node.agentToken, node.fingerprint);
    const liveClosed = node.closed();
    await next.connect({ attempt: now + 1000 });
    expect(await liveClosed).toBe(AgentCloseCode.REPLACED);
    next.ws?.close();
  });

  it('lets a node in, and keeps it, after many upgrades of its token that were hung up', async () => {
    const node = await register();
    const { port } = new URL(cloud.baseUrl);
    const request = () =>
      [
        'GET /ws/agent HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Version: 13',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        `Authorization: Bearer ${node.agentToken}`,
        `X-Canopy-Fingerprint: ${node.fingerprint}`,
        '',
        '',
      ].join('\r\n');
    // Handshakes run one at a time here (AGENT_HANDSHAKE_CONCURRENCY 1): none of these may hold the slot
    // for good, and none may later replace the node's live connection.
    const hungUp = Array.from({ length: 20 }, () => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.end(request()));
      socket.on('error', () => {});
      socket.on('data', () => {});
      return socket;
    });
    await Promise.all(hungUp.map((socket) => new Promise((resolve) => socket.once('finish', resolve))));
    try {
      await node.connect();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(node.closeCode).toBeUndefined();
      expect((await owner.get(`/api/v1/agents/${node.agentId}`)).body.agent.online).toBe(true);
    } finally {
      for (const socket of hungUp) socket.destroy();
      node.ws?.close();
    }
  });

  it('delivers a task queued while the node was offline when it connects, and stores its result once', async () => {
    const node = await register();
    const created = await owner.post(`/api/v1/agents/${node.agentId}/tasks`, {
      type: 'status_ping',
      payload: {},
    });
    expect(created.status).toBe(201);
    expect(created.body.task.status).toBe('queued');
    await node.connect();
    const [task] = await node.waitFor('task');
    expect(task?.task.id).toBe(created.body.task.id);
    node.send({ type: 'ack', cursor: task?.cursor });
    node.send({ type: 'task_update', task_id: created.body.task.id, status: 'done', result: { pong: true } });
    await node.waitFor('update_ack');
    node.send({
      type: 'task_update',
      task_id: created.body.task.id,
      status: 'error',
      error: 'late duplicate',
    });
    await expect.poll(async () => (await node.waitFor('update_ack')).length).toBe(2);
    const stored = await owner.get(`/api/v1/agents/${node.agentId}/tasks/${created.body.task.id}`);
    expect(stored.body.task).toMatchObject({ status: 'done', result: { pong: true }, error: null });

    // Reconnecting does not deliver the acknowledged task again.
    node.ws?.close();
    const again = new RawNode(cloud, node.agentId, node.agentToken, node.fingerprint);
    await again.connect();
    await new Promise((r) => setTimeout(r, 300));
    expect(again.frames.filter((f) => f.type === 'task')).toHaveLength(0);
    again.ws?.close();
  });

  it('pushes a new task to a connected node at once', async () => {
    const node = await register();
    await node.connect();
    const created = await owner.post(`/api/v1/agents/${node.agentId}/tasks`, {
      type: 'shell',
      payload: { command: 'echo hi' },
    });
    const [task] = await node.waitFor('task', (f) => f.task.id === created.body.task.id);
    expect(task?.task).toMatchObject({ type: 'shell', payload: { command: 'echo hi' } });
    node.ws?.close();
  });

  it('delivers by long poll with cursor acknowledgement, exactly once across poll and WS', async () => {
    const node = await register();
    await node.connect();
    node.ws?.close();
    const t1 = await owner.post(`/api/v1/agents/${node.agentId}/tasks`, { type: 'system_info', payload: {} });
    const first = await node.http('GET', '/poll?cursor=0&wait_s=0', node.session);
    expect(first.status).toBe(200);
    expect(first.body.messages.map((m: { task: { id: string } }) => m.task.id)).toEqual([t1.body.task.id]);

    // A long poll that acknowledges the first wakes when the next task arrives.
    const waiting = node.http('GET', `/poll?cursor=${first.body.cursor}&wait_s=10`, node.session);
    await new Promise((r) => setTimeout(r, 300));
    const t2 = await owner.post(`/api/v1/agents/${node.agentId}/tasks`, { type: 'status_ping', payload: {} });
    const second = await waiting;
    expect(second.body.messages.map((m: { task: { id: string } }) => m.task.id)).toEqual([t2.body.task.id]);
    const list = await owner.get('/api/v1/agents');
    expect(list.body.agents.find((a: { id: string }) => a.id === node.agentId).connection_type).toBe('poll');

    // Back on WS after acknowledging by poll: nothing is delivered twice.
    await node.http('GET', `/poll?cursor=${second.body.cursor}&wait_s=0`, node.session);
    const ws = new RawNode(cloud, node.agentId, node.agentToken, node.fingerprint);
    await ws.connect();
    await new Promise((r) => setTimeout(r, 300));
    expect(ws.frames.filter((f) => f.type === 'task')).toHaveLength(0);
    expect(
      (await owner.get(`/api/v1/agents/${node.agentId}/tasks/${t1.body.task.id}`)).body.task.status,
    ).toBe('delivered');

    // Results also go over HTTP.
    const update = await node.http('POST', `/tasks/${t2.body.task.id}/update`, node.session, {
      status: 'done',
      result: { ok: 1 },
    });
    expect(update.body).toEqual({ task_id: t2.body.task.id, status: 'done' });
    ws.ws?.close();
  });

  it('refreshes the session token with the agent token, and refuses an expired one with AGENT_TOKEN_EXPIRED', async () => {
    const node = await register();
    await node.connect();
    node.ws?.close();
    const refreshed = await node.http('POST', '/token/refresh', node.agentToken);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.token).toMatch(/^cns_/);
    expect(
      (await node.http('POST', '/heartbeat', refreshed.body.token, { state: 'polling', uptime_s: 5 })).status,
    ).toBe(200);
    // The session token does not open the refresh endpoint, nor the agent token the heartbeat.
    expect((await node.http('POST', '/token/refresh', refreshed.body.token)).body.code).toBe(
      'AGENT_TOKEN_INVALID',
    );
    expect(
      (await node.http('POST', '/heartbeat', node.agentToken, { state: 'x', uptime_s: 1 })).body.code,
    ).toBe('AGENT_TOKEN_INVALID');
    cloud.clock.offsetMs = 601_000;
    try {
      const expired = await node.http('POST', '/heartbeat', refreshed.body.token, {
        state: 'polling',
        uptime_s: 5,
      });
      expect(expired.status).toBe(401);
      expect(expired.body.code).toBe('AGENT_TOKEN_EXPIRED');
    } finally {
      cloud.clock.offsetMs = 0;
    }
  });

  it('shows a node offline at once after going_offline, and online again on its next heartbeat', async () => {
    const node = await register();
    await node.connect();
    const closed = node.closed();
    node.send({ type: 'going_offline', reason: 'shutdown' });
    expect(await closed).toBe(1000);
    const agent = async () => (await owner.get(`/api/v1/agents/${node.agentId}`)).body.agent;
    expect((await agent()).online).toBe(false);
    await node.http('POST', '/heartbeat', node.session, {
      state: 'connected',
      uptime_s: 42,
      version: '0.1.1',
    });
    expect(await agent()).toMatchObject({ online: true, version: '0.1.1', state: 'connected' });
    expect((await agent()).uptime_s).toBeGreaterThanOrEqual(42);
  });

  it('removes a node: its connections close with 4003 and its tokens stop working', async () => {
    const node = await register();
    await node.connect();
    const data = await DataSocket.open(cloud, node);
    const closed = node.closed();
    expect((await owner.request('DELETE', `/api/v1/agents/${node.agentId}`)).status).toBe(204);
    expect(await closed).toBe(AgentCloseCode.REVOKED);
    expect(await data.closed).toBe(AgentCloseCode.REVOKED); // the data plane too, not left open and idle
    expect((await node.http('POST', '/token/refresh', node.agentToken)).body.code).toBe(
      'AGENT_TOKEN_INVALID',
    );
    await expect(node.connect()).rejects.toMatchObject({ status: 401 });
    expect((await owner.get(`/api/v1/agents/${node.agentId}`)).status).toBe(404);
  });

  it('bounds the queue of an offline node with AGENT_QUEUE_FULL', async () => {
    const node = await register();
    for (let i = 0; i < 3; i++) {
      expect(
        (await owner.post(`/api/v1/agents/${node.agentId}/tasks`, { type: 'status_ping', payload: {} }))
          .status,
      ).toBe(201);
    }
    const full = await owner.post(`/api/v1/agents/${node.agentId}/tasks`, {
      type: 'status_ping',
      payload: {},
    });
    expect(full.status).toBe(409);
    expect(full.body.code).toBe('AGENT_QUEUE_FULL');
  });

  it("validates task payloads and hides other users' nodes", async () => {
    const node = await register();
    const bad = await owner.post(`/api/v1/agents/${node.agentId}/tasks`, { type: 'shell', payload: {} });
    expect(bad.body.code).toBe('VALIDATION_ERROR');
    expect(bad.body.details.fields[0].path).toBe('payload.command');
    expect(
      (await owner.post(`/api/v1/agents/${node.agentId}/tasks`, { type: 'launch_rockets', payload: {} })).body
        .code,
    ).toBe('VALIDATION_ERROR');
    const stranger = new Client(cloud.baseUrl);
    await stranger.signup('stranger@example.com', PASSWORD);
    expect((await stranger.get(`/api/v1/agents/${node.agentId}`)).status).toBe(404);
    expect(
      (await stranger.post(`/api/v1/agents/${node.agentId}/tasks`, { type: 'status_ping', payload: {} }))
        .status,
    ).toBe(404);
    expect((await stranger.get('/api/v1/agents')).body.agents).toEqual([]);
  });

  it('keeps agent tokens out of the logs', () => {
    const text = cloud.logs.text();
    expect(text).not.toMatch(/cn[tps]_[A-Za-z0-9_-]{43}/);
  });
});

describe.each(await backends())('agent liveness on $name', (backend) => {
  let cloud: TestCloud;
  beforeAll(async () => {
    cloud = await startTestCloud(backend, { AGENT_PING_INTERVAL_S: '1', AGENT_IDLE_TIMEOUT_S: '2' });
  });
  afterAll(() => cloud?.stop());

  it('closes a connection that stops answering pings with 4008', async () => {
    const owner = new Client(cloud.baseUrl);
    await owner.signup('idle@example.com', PASSWORD);
    const key = (await owner.post('/api/v1/agents/enrollment-keys', {})).body.secret;
    const fingerprint = fingerprintOf('idle');
    const reg: Json = await (
      await fetch(`${cloud.baseUrl}/api/v1/agents/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ enrollment_key: key, hostname: 'idle', os: 'x', version: '1', fingerprint }),
      })
    ).json();
    const node = new RawNode(cloud, reg.agent_id, reg.agent_token, fingerprint);
    await node.connect({ autoPong: false });
    const started = Date.now();
    expect(await node.closed()).toBe(AgentCloseCode.IDLE_TIMEOUT);
    expect(Date.now() - started).toBeLessThan(6000);
  });
});
