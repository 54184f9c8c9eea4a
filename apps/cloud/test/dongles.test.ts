import type { SeenDongle } from '@canopy/protocol';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands, dongleSightings, dongles, pairingSessions } from '../src/db/schema';
import { DongleService } from '../src/dongles/service';
import { sweepDongleWork } from '../src/dongles/sweep';
import { createLogger } from '../src/log';
import { backends } from './backends';
import { Client, type Json, startTestCloud, type TestCloud } from './harness';
import { type RawNode, registerNode } from './raw-node';

const seen = (deviceId: string, more: Partial<SeenDongle> = {}): SeenDongle => ({
  device_id: deviceId,
  lan_ip: '192.168.1.23',
  udp_port: 51000,
  fw_build: 'sim-2026.11',
  proto_ver: 1,
  capabilities: 7,
  pairing_state: 'normal',
  interface: 'eth0',
  online: true,
  last_seen_at: new Date().toISOString(),
  ...more,
});

describe.each(await backends())('dongles on $name', (backend) => {
  let cloud: TestCloud;
  let alice: Client;
  let bob: Client;
  let aliceNode: RawNode;
  let aliceLaptop: RawNode;
  let bobNode: RawNode;
  let n = 0;

  async function nodeOf(user: Client, host: string): Promise<RawNode> {
    const key = await user.post('/api/v1/agents/enrollment-keys', {});
    const node = await registerNode(cloud, key.body.secret, `${host}-${++n}`);
    await node.connect();
    return node;
  }

  const report = (node: RawNode, list: SeenDongle[]) =>
    node.http('POST', '/devices/report', node.session, { dongles: list });
  const listOf = async (user: Client) => {
    const reply = await user.get('/api/v1/dongles');
    expect(reply.status).toBe(200);
    return reply.body.dongles as Json[];
  };

  beforeAll(async () => {
    cloud = await startTestCloud(backend);
    alice = new Client(cloud.baseUrl);
    await alice.signup('alice@example.com');
    bob = new Client(cloud.baseUrl);
    await bob.signup('bob@example.com');
    aliceNode = await nodeOf(alice, 'garage');
    aliceLaptop = await nodeOf(alice, 'laptop');
    bobNode = await nodeOf(bob, 'bob-pc');
  });
  afterAll(async () => {
    for (const node of [aliceNode, aliceLaptop, bobNode]) node?.ws?.close();
    await cloud?.stop();
  });

  it('upserts a reported dongle by device_id and lists it, unclaimed, to the user whose node sees it', async () => {
    const reply = await report(aliceNode, [seen('0011223344556677')]);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ accepted: 1, fast_scan_until: null });
    const [dongle] = await listOf(alice);
    expect(dongle).toMatchObject({
      device_id: '0011223344556677',
      owned: false,
      ownership_state: 'UNCLAIMED',
      fw_build: 'sim-2026.11',
      online: true,
      pairing_state: 'normal',
      lan_ip: '192.168.1.23',
    });
    expect(dongle.seen_by).toEqual([
      expect.objectContaining({
        agent_id: aliceNode.agentId,
        interface: 'eth0',
        udp_port: 51000,
        online: true,
      }),
    ]);
    const single = await alice.get(`/api/v1/dongles/${dongle.id}`);
    expect(single.body.dongle).toEqual(dongle);
    // Reported again: still one row.
    await report(aliceNode, [seen('0011223344556677', { fw_build: 'sim-2026.12' })]);
    const rows = await cloud.database.db
      .select()
      .from(dongles)
      .where(eq(dongles.deviceId, '0011223344556677'));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.fwBuild).toBe('sim-2026.12');
  });

  it('does not show a dongle to users whose nodes do not see it, and answers 404 DONGLE_NOT_FOUND', async () => {
    const [dongle] = await listOf(alice);
    expect(await listOf(bob)).toEqual([]);
    const reply = await bob.get(`/api/v1/dongles/${dongle.id}`);
    expect(reply.status).toBe(404);
    expect(reply.body.code).toBe('DONGLE_NOT_FOUND');
    expect((await bob.get('/api/v1/dongles/not-a-uuid')).body.code).toBe('VALIDATION_ERROR');
  });

  it('lists each node that sees a dongle, and only the user’s own nodes', async () => {
    await report(aliceLaptop, [seen('0011223344556677', { lan_ip: '10.0.5.23', interface: 'wlan0' })]);
    await report(bobNode, [seen('0011223344556677', { lan_ip: '172.16.0.9' })]);
    const [mine] = await listOf(alice);
    expect(mine.seen_by.map((s: Json) => s.agent_id).sort()).toEqual(
      [aliceNode.agentId, aliceLaptop.agentId].sort(),
    );
    const [bobs] = await listOf(bob);
    expect(bobs.seen_by.map((s: Json) => s.lan_ip)).toEqual(['172.16.0.9']);
  });

  it('routes to a preferred node while it hears the dongle, else to the one that heard it last', async () => {
    const service = new DongleService({
      db: cloud.database.db,
      engine: cloud.engine,
      log: createLogger('silent'),
      now: () => new Date(),
      agentIdleTimeoutMs: 90_000,
      askToScan: async () => {},
    });
    const aliceId = (await alice.get('/api/v1/auth/me')).body.user.id;
    const [dongle] = await listOf(alice);
    await report(aliceNode, [seen('0011223344556677')]); // the garage heard it last
    expect((await service.route(aliceId, dongle.id)).agentId).toBe(aliceNode.agentId);
    expect((await service.route(aliceId, dongle.id, aliceLaptop.agentId)).agentId).toBe(aliceLaptop.agentId);
    await report(aliceLaptop, [seen('0011223344556677', { online: false })]);
    expect((await service.route(aliceId, dongle.id, aliceLaptop.agentId)).agentId).toBe(aliceNode.agentId);
    await report(aliceLaptop, [seen('0011223344556677', { lan_ip: '10.0.5.23', interface: 'wlan0' })]);
  });

  it('shows a dongle offline when the node says so or when the node goes offline, and drops what a node no longer sees', async () => {
    await report(aliceNode, [seen('0011223344556677', { online: false }), seen('8899aabbccddeeff')]);
    await report(aliceLaptop, [seen('0011223344556677', { online: false, lan_ip: '10.0.5.23' })]);
    let list = await listOf(alice);
    expect(list.map((d) => [d.device_id, d.online])).toEqual([
      ['8899aabbccddeeff', true],
      ['0011223344556677', false],
    ]);
    // The node shuts down cleanly: what it sees is no longer online.
    await aliceNode.http('POST', '/going-offline', aliceNode.session);
    list = await listOf(alice);
    expect(list.find((d) => d.device_id === '8899aabbccddeeff')?.online).toBe(false);
    await aliceNode.http('POST', '/heartbeat', aliceNode.session, { state: 'connected', uptime_s: 5 });
    // An empty snapshot: this node sees nothing any more.
    await report(aliceNode, []);
    const rows = await cloud.database.db
      .select()
      .from(dongleSightings)
      .where(eq(dongleSightings.agentId, aliceNode.agentId));
    expect(rows).toEqual([]);
    list = await listOf(alice);
    expect(list.map((d) => d.device_id)).toEqual(['0011223344556677']); // still seen (offline) by the laptop
  });

  it('takes a report over the WebSocket too', async () => {
    aliceNode.send({
      type: 'dongle_report',
      dongles: [seen('1122334455667788', { pairing_state: 'pairing' })],
    });
    await expect
      .poll(
        async () => (await listOf(alice)).find((d) => d.device_id === '1122334455667788')?.pairing_state,
        {
          timeout: 5000,
        },
      )
      .toBe('pairing');
  });

  it('refuses a malformed report with VALIDATION_ERROR naming the field, and keeps what it had', async () => {
    const before = await listOf(alice);
    const bad = await report(aliceNode, [seen('NOT-HEX'), seen('0011223344556677', { lan_ip: '999.1.1.1' })]);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_ERROR');
    expect(bad.body.details.fields.map((f: Json) => f.path)).toEqual(
      expect.arrayContaining(['dongles.0.device_id', 'dongles.1.lan_ip']),
    );
    expect(await listOf(alice)).toEqual(before);
    // Without a node's session token: 401.
    const anonymous = await fetch(`${cloud.baseUrl}/api/v1/agents/devices/report`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dongles: [] }),
    });
    expect(anonymous.status).toBe(401);
    // A malformed WS frame is ignored, and the connection lives on.
    aliceNode.send({ type: 'dongle_report', dongles: [{ device_id: 42 }] });
    aliceNode.send({ type: 'ack', cursor: 0 });
    expect(aliceNode.ws?.readyState).toBe(1);
  });

  it('POST /dongles/scan asks the user’s connected nodes to scan fast, over WS and in report answers', async () => {
    const scan = await alice.post('/api/v1/dongles/scan');
    expect(scan.status).toBe(200);
    expect(scan.body.nodes).toBe(2);
    const until = Date.parse(scan.body.fast_scan_until);
    expect(until - Date.now()).toBeGreaterThan(25_000);
    // Each answer computes "until" from the window's time left: equal to within clock rounding.
    const near = (iso: string | null | undefined) => Math.abs(Date.parse(iso ?? '') - until) < 1000;
    for (const node of [aliceNode, aliceLaptop]) {
      const [request] = await node.waitFor('scan_request');
      expect(request?.fast_until).toBe(scan.body.fast_scan_until);
    }
    expect(bobNode.frames.some((f) => f.type === 'scan_request')).toBe(false);
    // A report's answer says it too (and a poll's: see below); bob's nodes were not asked.
    expect((await report(bobNode, [])).body.fast_scan_until).toBeNull();
    const answer = await report(aliceLaptop, []);
    expect(near(answer.body.fast_scan_until)).toBe(true);
  });

  it('ends a polling node’s long poll with fast_scan_until when a scan is requested', async () => {
    const poll = aliceNode.http('GET', '/poll?cursor=0&wait_s=25', aliceNode.session);
    await new Promise((r) => setTimeout(r, 300));
    const began = Date.now();
    await alice.post('/api/v1/dongles/scan');
    const answer = await poll;
    expect(Date.now() - began).toBeLessThan(5000);
    expect(answer.status).toBe(200);
    expect(Date.parse(answer.body.fast_scan_until)).toBeGreaterThan(Date.now());
  });

  it('sweeps commands that never got an answer and pairings past their time, and nothing else', async () => {
    const db = cloud.database.db;
    const userId = (await alice.get('/api/v1/auth/me')).body.user.id as string;
    const [found] = await db.select().from(dongles).where(eq(dongles.deviceId, '0011223344556677'));
    if (!found) throw new Error('the dongle of the first test is missing');
    const dongleId = found.id;
    const now = new Date();
    const ago = (ms: number) => new Date(now.getTime() - ms);
    const rows = await db
      .insert(commands)
      .values([
        {
          dongleId,
          userId,
          command: 'help',
          timeoutMs: 5000,
          status: 'running',
          createdAt: ago(600_000),
        },
        {
          dongleId,
          userId,
          command: 'help',
          timeoutMs: 5000,
          status: 'queued',
          createdAt: ago(66_000),
        },
        {
          dongleId,
          userId,
          command: 'help',
          timeoutMs: 15_000,
          status: 'running',
          createdAt: ago(70_000),
        },
        {
          dongleId,
          userId,
          command: 'help',
          timeoutMs: 5000,
          status: 'done',
          createdAt: ago(600_000),
        },
      ])
      .returning();
    const sessions = await db
      .insert(pairingSessions)
      .values([
        {
          dongleId,
          userId,
          agentId: aliceNode.agentId,
          state: 'submitting',
          expiresAt: ago(1000),
        },
        {
          dongleId,
          userId,
          agentId: aliceNode.agentId,
          state: 'open',
          expiresAt: new Date(now.getTime() + 60_000),
        },
      ])
      .returning();
    expect(await sweepDongleWork(db, now)).toEqual({ commands: 2, pairings: 1 });
    const after = await db.select().from(commands);
    const status = (id: string) => after.find((c) => c.id === id)?.status;
    expect(rows.map((r) => status(r.id))).toEqual(['error', 'error', 'running', 'done']);
    const states = await db.select().from(pairingSessions);
    expect(sessions.map((x) => states.find((y) => y.id === x.id)?.state)).toEqual(['expired', 'open']);
  });

  it('enforces one row per device_id and the ownership rules in the database itself', async () => {
    const db = cloud.database.db;
    await expect(db.insert(dongles).values({ deviceId: '0011223344556677' })).rejects.toThrow();
    await expect(db.insert(dongles).values({ deviceId: 'XYZ' })).rejects.toThrow();
    await expect(
      db.insert(dongles).values({ deviceId: 'aaaaaaaaaaaaaaaa', ownershipState: 'CLAIMED_ACTIVE' }),
    ).rejects.toThrow();
  });
});
