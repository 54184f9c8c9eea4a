import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CanFrameEvent, SeenDongle } from '@canopy/protocol';
import { eq } from 'drizzle-orm';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionUser } from '../src/accounts/sessions';
import { dongles, dongleTokens } from '../src/db/schema';
import { RedisEngine, type StreamEngine } from '../src/engine';
import { compareStreamIds } from '../src/engine/stream-id';
import { errorHandler } from '../src/http/errors';
import { requestContext } from '../src/http/request-context';
import { createLogger } from '../src/log';
import { ConsoleStreams } from '../src/streams/console-streams';
import { consoleStreamKey } from '../src/streams/keys';
import { consoleRoutes } from '../src/streams/routes';
import { backends, TEST_REDIS_URL } from './backends';
import { Client, startTestCloud, type TestCloud } from './harness';
import { type RawNode, registerNode } from './raw-node';
import { type SseClient as Sse, SseClient } from './sse-client';

const silent = createLogger('silent');
const cookieOf = (client: Client) => [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
const increasing = (ids: string[]) =>
  ids.every((id, i) => i === 0 || compareStreamIds(ids[i - 1] as string, id) < 0);
const logData = (message: string, extra: Record<string, unknown> = {}) => ({
  ts: new Date().toISOString(),
  level: 'info' as const,
  message,
  ...extra,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(await backends())('live console (SSE) on $name', (backend) => {
  // One master key for both instances of the cross-instance test (the dongle's token is sealed with it).
  const env = { DONGLE_TOKEN_MASTER_KEY_V1: randomBytes(32).toString('base64') };
  let cloud: TestCloud;
  let alice: Client;
  let bob: Client;
  let admin: Client;
  let node: RawNode;
  let dongleId: string;
  let deviceId: string;
  /** Puts events into the consoles' streams as any cloud instance would (same engine, same streams). */
  let emitter: ConsoleStreams;
  const open: Sse[] = [];

  const consolePath = (id = dongleId) => `/api/v1/streams/dongles/${id}/console`;
  async function watch(
    who: Client | null,
    opts: { path?: string; lastEventId?: string; baseUrl?: string; headers?: Record<string, string> } = {},
  ): Promise<Sse> {
    const headers: Record<string, string> = { ...opts.headers };
    if (who) headers.cookie = cookieOf(who);
    if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId;
    const sse = await SseClient.open(
      `${opts.baseUrl ?? cloud.baseUrl}${opts.path ?? consolePath()}`,
      headers,
    );
    open.push(sse);
    return sse;
  }
  const stream = () => consoleStreamKey('dongle', dongleId);
  const emitLogs = async (n: number, tag: string) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(await emitter.emit(stream(), 'log', logData(`${tag}-${i}`)));
    return ids;
  };
  const seen = (online: boolean): SeenDongle => ({
    device_id: deviceId,
    lan_ip: '192.168.1.40',
    udp_port: 51000,
    fw_build: 'sim-1',
    proto_ver: 1,
    capabilities: 7,
    pairing_state: 'normal',
    interface: 'eth0',
    online,
    last_seen_at: new Date().toISOString(),
  });
  /** A node's report with a request id of our choosing, to the given instance. */
  const report = (online: boolean, requestId: string, baseUrl = cloud.baseUrl) =>
    fetch(`${baseUrl}/api/v1/agents/devices/report`, {
      method: 'POST',
      headers: {
        ...node.headers(node.session),
        'content-type': 'application/json',
        'x-request-id': requestId,
      },
      body: JSON.stringify({ dongles: [seen(online)] }),
    });

  beforeAll(async () => {
    cloud = await startTestCloud(backend, env);
    alice = new Client(cloud.baseUrl);
    await alice.signup('alice@example.com');
    bob = new Client(cloud.baseUrl);
    await bob.signup('bob@example.com');
    await cloud.accounts.createAdmin('root@example.com', 'correct horse battery', {
      actorUserId: null,
      ip: null,
      userAgent: 'test',
    });
    admin = new Client(cloud.baseUrl);
    await admin.login('root@example.com');
    const aliceId = (await alice.get('/api/v1/auth/me')).body.user.id as string;

    // A dongle alice has paired (its token sealed as pairing would), heard by alice's node.
    deviceId = randomBytes(8).toString('hex');
    const [row] = await cloud.database.db
      .insert(dongles)
      .values({ deviceId, ownerUserId: aliceId, ownershipState: 'CLAIMED_ACTIVE' })
      .returning();
    if (!row) throw new Error('no dongle row');
    dongleId = row.id;
    const createdAt = new Date();
    const sealed = cloud.keyring.seal(randomBytes(32), { dongleId, userId: aliceId, createdAt });
    await cloud.database.db.insert(dongleTokens).values({ dongleId, userId: aliceId, createdAt, ...sealed });
    const key = await alice.post('/api/v1/agents/enrollment-keys', {});
    node = await registerNode(cloud, key.body.secret, `garage-${randomBytes(3).toString('hex')}`);
    await node.connect();
    expect((await report(true, 'setup-report')).status).toBe(200);

    emitter = new ConsoleStreams({ engine: cloud.engine, log: silent, sampleThreshold: 200 });
  });
  afterAll(async () => {
    for (const sse of open) sse.close();
    emitter?.close();
    node?.ws?.close();
    await cloud?.stop();
  });

  it('answers 401 without a session, 404 to another user and for an unknown dongle, and lets the owner and a super_admin in', async () => {
    const anonymous = await watch(null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ code: 'AUTH_REQUIRED', message: expect.any(String), details: {} });

    const other = await watch(bob);
    expect(other.status).toBe(404);
    expect(other.body).toEqual({ code: 'DONGLE_NOT_FOUND', message: 'Dongle not found', details: {} });
    const unknown = await watch(alice, { path: consolePath(randomUUID()) });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('DONGLE_NOT_FOUND');
    expect((await watch(alice, { path: consolePath('nope') })).body.code).toBe('VALIDATION_ERROR');
    // Group consoles are not plugged in yet: every group is unknown.
    const group = await watch(alice, { path: `/api/v1/streams/groups/${randomUUID()}/console` });
    expect(group.status).toBe(404);
    expect(group.body.code).toBe('GROUP_NOT_FOUND');

    const owner = await watch(alice);
    expect(owner.status).toBe(200);
    const superAdmin = await watch(admin);
    expect(superAdmin.status).toBe(200);
    owner.close();
    superAdmin.close();
  });

  it('ends an open console within seconds once its viewer logs out, or the dongle is no longer theirs', async () => {
    const ended = async (sse: Sse) => {
      await Promise.race([sse.ended$(), sleep(12_000)]);
      return sse.ended;
    };
    // Logged out in one tab: that session's console ends; another session of the same user keeps its own.
    const tab = new Client(cloud.baseUrl);
    await tab.login('alice@example.com');
    const loggedOut = await watch(tab);
    const stays = await watch(alice);
    expect([loggedOut.status, stays.status]).toEqual([200, 200]);
    expect((await tab.post('/api/v1/auth/logout', {})).status).toBeLessThan(300);
    expect(await ended(loggedOut)).toBe(true);
    expect(loggedOut.of('log').map((e) => e.data.code)).toContain('console_access_ended');
    expect(stays.ended).toBe(false);
    stays.close();

    // A dongle that becomes someone else's (unpaired, then paired by bob): alice's console of it ends, and
    // nothing bob's dongle says afterwards reaches her.
    const aliceId = (await alice.get('/api/v1/auth/me')).body.user.id as string;
    const bobId = (await bob.get('/api/v1/auth/me')).body.user.id as string;
    const [other] = await cloud.database.db
      .insert(dongles)
      .values({
        deviceId: randomBytes(8).toString('hex'),
        ownerUserId: aliceId,
        ownershipState: 'CLAIMED_ACTIVE',
      })
      .returning();
    if (!other) throw new Error('no dongle row');
    const before = await watch(alice, { path: consolePath(other.id) });
    expect(before.status).toBe(200);
    await cloud.database.db.update(dongles).set({ ownerUserId: bobId }).where(eq(dongles.id, other.id));
    expect(await ended(before)).toBe(true);
    await emitter.emit(consoleStreamKey('dongle', other.id), 'log', logData('bob-only'));
    expect(before.of('log').map((e) => e.data.message)).not.toContain('bob-only');
    expect((await watch(alice, { path: consolePath(other.id) })).status).toBe(404);
    expect((await watch(bob, { path: consolePath(other.id) })).status).toBe(200);
  });

  it('streams with SSE headers, its request id first, a presence snapshot, then events with strictly increasing ids', async () => {
    const sse = await watch(alice, { headers: { 'x-request-id': 'sse-conn-1' } });
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(sse.headers['cache-control']).toMatch(/no-cache/);
    expect(sse.headers['x-accel-buffering']).toBe('no');
    await sse.waitFor((c) => c.of('presence').length === 1);
    expect(sse.comments[0]).toBe('request_id sse-conn-1');
    expect(sse.retry).toBeGreaterThan(0);
    const [snapshot] = sse.of('presence');
    expect(snapshot).toEqual({
      event: 'presence',
      data: {
        request_id: 'sse-conn-1',
        dongle_id: dongleId,
        online: true,
        agent_id: node.agentId,
        seen_at: expect.any(String),
      },
    });

    const ids = await emitLogs(30, 'burst');
    const got = await sse.waitForEvents(30);
    expect(got.map((e) => e.id)).toEqual(ids);
    expect(increasing(ids)).toBe(true);
    expect(got.map((e) => e.data.message)).toEqual(ids.map((_, i) => `burst-${i}`));
    // Events caused by no request carry the SSE request's id; one caused by a request keeps its own.
    expect(got[0]?.data.request_id).toBe('sse-conn-1');
    await emitter.emit(stream(), 'log', logData('caused', { request_id: 'other-req' }));
    const [caused] = (await sse.waitForEvents(31)).slice(-1);
    expect(caused?.data).toMatchObject({ message: 'caused', request_id: 'other-req' });
    sse.close();
  });

  it('puts every command status on the console with the id of the request that ran the command', async () => {
    const sse = await watch(alice);
    await sse.waitFor((c) => c.of('presence').length === 1);
    const queued = await alice.request('POST', `/api/v1/dongles/${dongleId}/commands`, {
      json: { command: 'remote status' },
      headers: { 'x-request-id': 'run-cmd-1' },
    });
    expect(queued.status, JSON.stringify(queued.body)).toBe(202);
    const request = (await node.waitFor('dongle_request', (f) => f.request.op === 'command')).at(-1);
    node.send({
      type: 'dongle_response',
      request_id: request?.request_id,
      outcome: {
        ok: true,
        result: {
          op: 'command',
          status: 'ok',
          auth_rejected: false,
          exit_code: 0,
          stdout: 'remote: idle',
          stderr: '',
          truncated: false,
        },
      },
    });
    const statuses = await sse.waitForEvents(3, 'command_status');
    expect(statuses.map((e) => e.data.status)).toEqual(['queued', 'running', 'done']);
    for (const e of statuses) {
      expect(e.data).toMatchObject({
        command_id: queued.body.command_id,
        dongle_id: dongleId,
        command: 'remote status',
        request_id: 'run-cmd-1',
      });
    }
    expect(statuses[2]?.data.exit_code).toBe(0);
    expect(increasing(statuses.map((e) => e.id as string))).toBe(true);
    sse.close();
  });

  it('tells the console when the dongle goes offline and comes back (presence)', async () => {
    const sse = await watch(alice);
    await sse.waitFor((c) => c.of('presence').length === 1);
    expect((await report(false, 'report-off')).status).toBe(200);
    await sse.waitFor((c) => c.streamed.some((e) => e.event === 'presence'));
    expect((await report(false, 'report-still-off')).status).toBe(200); // no change: no event
    expect((await report(true, 'report-on')).status).toBe(200);
    await sse.waitFor((c) => c.streamed.filter((e) => e.event === 'presence').length === 2);
    const changes = sse.streamed.filter((e) => e.event === 'presence');
    expect(changes.map((e) => [e.data.online, e.data.agent_id, e.data.request_id])).toEqual([
      [false, null, 'report-off'],
      [true, node.agentId, 'report-on'],
    ]);
    sse.close();
  });

  it('resumes a dropped connection with exactly the events it missed, by header or by query', async () => {
    const first = await watch(alice);
    await first.waitFor((c) => c.of('presence').length === 1);
    const before = await emitLogs(3, 'before');
    await first.waitForEvents(3);
    first.close();
    const missed = await emitLogs(5, 'missed');

    const resumed = await watch(alice, { lastEventId: before[2] });
    const got = await resumed.waitForEvents(5);
    expect(got.map((e) => e.id)).toEqual(missed);
    const live = await emitLogs(1, 'live');
    await resumed.waitForEvents(6);
    expect(resumed.streamed.map((e) => e.id)).toEqual([...missed, ...live]);
    // A resume is not a fresh start: no snapshot, no reset.
    expect(resumed.events.filter((e) => e.id === undefined)).toEqual([]);
    resumed.close();

    const byQuery = await watch(alice, { path: `${consolePath()}?last_event_id=${missed[2]}` });
    await byQuery.waitForEvents(3);
    expect(byQuery.streamed.map((e) => e.id)).toEqual([missed[3], missed[4], live[0]]);
    byQuery.close();
  });

  it('sends stream_reset and then live events when the id has been trimmed away, or is not one of the stream', async () => {
    const trimming = new ConsoleStreams({ engine: cloud.engine, log: silent, maxEntries: 5, trimEvery: 1 });
    const [old] = await emitLogs(1, 'old');
    for (let i = 0; i < 20; i++) await trimming.emit(stream(), 'log', logData(`push-${i}`));
    await expect.poll(async () => (await cloud.engine.streamInfo(stream())).length).toBeLessThanOrEqual(6);
    trimming.close();

    const sse = await watch(alice, { lastEventId: old });
    await sse.waitFor((c) => c.of('stream_reset').length === 1 && c.of('presence').length === 1);
    const [reset] = sse.of('stream_reset');
    expect(reset?.id).toBeUndefined();
    expect(reset?.data).toMatchObject({
      reason: 'too_old',
      last_event_id: old,
      request_id: expect.any(String),
    });
    expect(compareStreamIds(reset?.data.oldest_id, old as string)).toBeGreaterThan(0);
    expect(sse.events[0]?.event).toBe('stream_reset');
    const [liveId] = await emitLogs(1, 'after-reset');
    await sse.waitForEvents(1);
    expect(sse.streamed.map((e) => e.id)).toEqual([liveId]);
    sse.close();

    for (const bad of ['99999999999999-0', 'not-an-id']) {
      const other = await watch(alice, { lastEventId: bad });
      await other.waitFor((c) => c.of('stream_reset').length === 1);
      expect(other.of('stream_reset')[0]?.data.reason).toBe('unknown_id');
      other.close();
    }
  });

  it('samples CAN frames above the threshold, says so in a log event, and says when it stops', async () => {
    const sse = await watch(alice);
    await sse.waitFor((c) => c.of('presence').length === 1);
    const frame = (i: number): CanFrameEvent => ({
      ts: new Date().toISOString(),
      direction: 'rx',
      dongle_id: dongleId,
      id: '0x7E8',
      is_extended: false,
      dlc: 8,
      data: `0210030000${(i % 256).toString(16).padStart(2, '0').toUpperCase()}0000`,
    });
    // 1,000 frames in about half a second: 2,000 frames/s against a threshold of 200/s.
    let sent = 0;
    for (let batch = 0; batch < 10; batch++) {
      await emitter.emitFrames(
        [stream()],
        Array.from({ length: 100 }, () => frame(sent++)),
      );
      await sleep(50);
    }
    await sse.waitFor((c) => c.of('log').some((e) => e.data.code === 'console_sampling'));
    const notice = sse.of('log').find((e) => e.data.code === 'console_sampling');
    expect(notice?.data).toMatchObject({
      level: 'warn',
      message: expect.stringMatching(/1 in \d+ CAN frames/),
      details: { threshold_per_s: 200, one_in: expect.any(Number) },
    });
    expect(notice?.data.details.one_in).toBeGreaterThanOrEqual(2);
    await sse.waitFor((c) => c.of('can_frame').length > 0);
    const shown = () => sse.of('can_frame').length;
    await sleep(200);
    expect(shown()).toBeLessThan(sent / 2);
    expect(shown()).toBeGreaterThan(0);
    expect(sse.of('can_frame')[0]?.data).toMatchObject({ id: '0x7E8', dlc: 8, direction: 'rx' });
    // Frames stop: sampling ends within a couple of seconds, and the console says so.
    await sse.waitFor((c) => c.of('log').some((e) => e.data.code === 'console_sampling_stopped'), 6000);
    sse.close();
  });

  it('fans one stream out to every subscriber of an instance', async () => {
    const a = await watch(alice);
    const b = await watch(alice);
    await a.waitFor((c) => c.of('presence').length === 1);
    await b.waitFor((c) => c.of('presence').length === 1);
    const [id] = await emitLogs(1, 'both');
    await a.waitForEvents(1);
    await b.waitForEvents(1);
    expect(a.streamed[0]?.id).toBe(id);
    expect(b.streamed[0]?.id).toBe(id);
    a.close();
    b.close();
  });

  it('carries events across instances: emitted on instance 1, seen and resumed on instance 2', async () => {
    const engine2: StreamEngine =
      cloud.engine instanceof RedisEngine
        ? await RedisEngine.connect(TEST_REDIS_URL, { prefix: cloud.engine.prefix })
        : cloud.engine;
    const cloud2 = await startTestCloud(backend, env, { database: cloud.database, engine: engine2 });
    try {
      const on2 = await watch(alice, { baseUrl: cloud2.baseUrl });
      expect(on2.status).toBe(200);
      await on2.waitFor((c) => c.of('presence').length === 1);
      // A real event made on instance 1: the node tells instance 1 the dongle went offline.
      expect((await report(false, 'inst1-off')).status).toBe(200);
      await on2.waitFor((c) =>
        c.streamed.some((e) => e.event === 'presence' && e.data.request_id === 'inst1-off'),
      );

      // Instance 1's own subscriber sees it with the same id; instance 2 resumes from that id.
      const on1 = await watch(alice, { baseUrl: cloud.baseUrl });
      await on1.waitFor((c) => c.of('presence').length === 1);
      expect((await report(true, 'inst1-on')).status).toBe(200);
      await on1.waitFor((c) => c.streamed.some((e) => e.data.request_id === 'inst1-on'));
      const seenOn1 = on1.streamed.find((e) => e.data.request_id === 'inst1-on')?.id as string;
      on1.close();
      expect(on2.streamed.some((e) => e.id === seenOn1)).toBe(true);
      on2.close();

      expect((await report(false, 'inst1-off-again')).status).toBe(200);
      const missed = await emitLogs(2, 'while-away');
      const resumed = await watch(alice, { baseUrl: cloud2.baseUrl, lastEventId: seenOn1 });
      await resumed.waitForEvents(3);
      expect(resumed.of('stream_reset')).toEqual([]);
      const got = resumed.streamed;
      expect(got[0]).toMatchObject({
        event: 'presence',
        data: { online: false, request_id: 'inst1-off-again' },
      });
      expect(got.slice(1).map((e) => e.id)).toEqual(missed);
      resumed.close();
      expect((await report(true, 'restore')).status).toBe(200);
    } finally {
      for (const sse of open) sse.close();
      await cloud2.stop();
      if (engine2 !== cloud.engine) await engine2.close();
    }
  });
});

/**
 * The route on a bare server (the user is given, keep-alive and the queue limit are small), to pin the
 * connection behaviour without waiting 15 s or filling megabytes per test.
 */
describe.each(await backends())('live console connections on $name', (backend) => {
  let server: http.Server;
  let baseUrl: string;
  let streams: ConsoleStreams;
  let cleanup: () => Promise<void>;
  const dongleId = randomUUID();
  const key = consoleStreamKey('dongle', dongleId);
  const url = () => `${baseUrl}/streams/dongles/${dongleId}/console`;

  beforeAll(async () => {
    const opened = await backend.open();
    cleanup = opened.cleanup;
    streams = new ConsoleStreams({ engine: opened.engine, log: silent });
    const app = express();
    app.use(requestContext(silent));
    const user = { id: randomUUID(), role: 'user' } as SessionUser;
    app.use((req, _res, next) => {
      req.user = user;
      req.sessionId = 'a-session';
      next();
    });
    app.use(
      '/streams',
      consoleRoutes({
        streams,
        authorize: async () => {},
        sessionUser: async () => user,
        keepAliveMs: 100,
        maxQueueBytes: 256 * 1024,
      }),
    );
    app.use(errorHandler);
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    streams?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await cleanup?.();
  });

  it('sends keep-alive comments while nothing happens', async () => {
    const sse = await SseClient.open(url());
    await sse.waitFor((c) => c.comments.filter((m) => m === 'keep-alive').length >= 3, 2000);
    expect(sse.events).toEqual([]);
    sse.close();
    await expect.poll(() => streams.stats()).toEqual({ streams: 0, subscribers: 0 });
  });

  it('drops a client that stops reading once its queue is full, and the client resumes where it stopped', async () => {
    const sse = await SseClient.open(url());
    const first: string[] = [];
    for (let i = 0; i < 5; i++) first.push(await streams.emit(key, 'log', logData(`small-${i}`)));
    await sse.waitForEvents(5);
    sse.res?.pause();
    const blob = 'x'.repeat(8000);
    const ids = [...first];
    for (let i = 0; i < 1500; i++) {
      ids.push(await streams.emit(key, 'log', logData(`big-${i}`, { details: { blob } })));
    }
    // The server gave up on the connection rather than queue 12 MB for it.
    await expect.poll(() => streams.stats().subscribers, { timeout: 10_000 }).toBe(0);
    sse.close();
    const got = sse.streamed.map((e) => e.id as string);
    expect(got.length).toBeLessThan(ids.length);
    expect(got).toEqual(ids.slice(0, got.length));

    // Resuming catches up at the client's pace (a catch-up does not overflow the queue) and misses nothing.
    const resumed = await SseClient.open(url(), { 'last-event-id': got.at(-1) as string });
    await resumed.waitFor((c) => c.streamed.length === ids.length - got.length, 10_000);
    expect(resumed.streamed.map((e) => e.id)).toEqual(ids.slice(got.length));
    resumed.close();
  });
});
