import { randomBytes } from 'node:crypto';
import type { SeenDongle } from '@canopy/protocol';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agents, agentTokens, auditLogs, dongles, dongleTokens, enrollmentKeys } from '../src/db/schema';
import { RedisEngine, type StreamEngine } from '../src/engine';
import { GroupService } from '../src/groups/service';
import { createLogger } from '../src/log';
import { backends, TEST_REDIS_URL } from './backends';
import { Client, type Json, startTestCloud, type TestCloud } from './harness';
import { DataSocket, fingerprintOf, RawNode, registerNode } from './raw-node';

const PASSWORD = 'correct horse battery';
/** Both instances seal and open dongle tokens with the same master key, as in production. */
const ENV = { DONGLE_TOKEN_MASTER_KEY_V1: randomBytes(32).toString('base64') };
/** How a disabled account's node connections close: policy violation, not 4003 (which means re-enroll). */
const POLICY_VIOLATION = 1008;

const seen = (deviceId: string): SeenDongle => ({
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
});

type Refusal = { status: number; body: Json };

async function refusal(attempt: Promise<unknown>): Promise<Refusal> {
  const err = (await attempt.then(
    () => {
      throw new Error('the connection was accepted');
    },
    (e: unknown) => e,
  )) as Refusal;
  return { status: err.status, body: err.body };
}

describe.each(await backends())('disabling a user on $name', (backend) => {
  let cloud: TestCloud;
  /** A second instance on the same database and engine (its own Redis connection): the node is connected here. */
  let second: TestCloud;
  let secondEngine: StreamEngine;
  let admin: Client;
  let alice: Client;
  let aliceId: string;
  let key: string;
  let node: RawNode;
  let agentWs: RawNode;
  let dataWs: DataSocket;
  let groupId: string;
  let bobGroupId: string;
  let groups: GroupService;

  /** A dongle paired with `ownerId`, with its token sealed as pairing would leave it. */
  async function pairedDongle(ownerId: string) {
    const db = cloud.database.db;
    const [row] = await db
      .insert(dongles)
      .values({
        deviceId: randomBytes(8).toString('hex'),
        ownershipState: 'CLAIMED_ACTIVE',
        ownerUserId: ownerId,
      })
      .returning();
    if (!row) throw new Error('no dongle row');
    const createdAt = new Date();
    const sealed = cloud.keyring.seal(randomBytes(32), { dongleId: row.id, userId: ownerId, createdAt });
    await db.insert(dongleTokens).values({ dongleId: row.id, userId: ownerId, createdAt, ...sealed });
    return row;
  }

  async function groupOf(user: Client, a: string, b: string): Promise<string> {
    const created = await user.post('/api/v1/groups', { name: 'Bench', dongle_a_id: a, dongle_b_id: b });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const activated = await user.post(`/api/v1/groups/${created.body.group.id}/activate`);
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);
    return created.body.group.id;
  }

  const bridgedIds = async () => (await groups.bridged()).map((g) => g.id).sort();
  const register = (hostname: string) =>
    fetch(`${cloud.baseUrl}/api/v1/agents/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        enrollment_key: key,
        hostname,
        os: 'Linux 6.1 (x64)',
        version: '0.1.0',
        network_interfaces: [],
        fingerprint: fingerprintOf(hostname),
      }),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as Json }));
  /** A fresh RawNode for the same agent (a RawNode remembers its first close). */
  const sameNode = (on: TestCloud) => new RawNode(on, node.agentId, node.agentToken, node.fingerprint);

  beforeAll(async () => {
    cloud = await startTestCloud(backend, ENV);
    secondEngine =
      cloud.engine instanceof RedisEngine
        ? await RedisEngine.connect(TEST_REDIS_URL, { prefix: cloud.engine.prefix })
        : cloud.engine;
    second = await startTestCloud(backend, ENV, { database: cloud.database, engine: secondEngine });
    groups = new GroupService({
      db: cloud.database.db,
      engine: cloud.engine,
      log: createLogger('silent'),
      now: () => new Date(),
      dongles: { list: async () => [] },
    });

    await cloud.accounts.createAdmin('root@example.com', PASSWORD, {
      actorUserId: null,
      ip: null,
      userAgent: 'test',
    });
    admin = new Client(cloud.baseUrl);
    expect((await admin.login('root@example.com', PASSWORD)).body.user.role).toBe('super_admin');
    alice = new Client(cloud.baseUrl);
    aliceId = (await alice.signup('alice@example.com', PASSWORD)).body.user.id;
    key = (await alice.post('/api/v1/agents/enrollment-keys', { label: 'garage' })).body.secret;
    node = await registerNode(cloud, key, 'garage');

    // Alice's node, connected to the second instance on both channels, bridges both sides of her group.
    agentWs = sameNode(second);
    await agentWs.connect();
    const a = await pairedDongle(aliceId);
    const b = await pairedDongle(aliceId);
    const report = await agentWs.http('POST', '/devices/report', agentWs.session, {
      dongles: [seen(a.deviceId), seen(b.deviceId)],
    });
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    dataWs = await DataSocket.open(second, node);
    groupId = await groupOf(alice, a.id, b.id);

    // Bob's group (no node of his is online: degraded) is bridged all along.
    const bob = new Client(cloud.baseUrl);
    const bobId = (await bob.signup('bob@example.com', PASSWORD)).body.user.id;
    bobGroupId = await groupOf(bob, (await pairedDongle(bobId)).id, (await pairedDongle(bobId)).id);
  });

  afterAll(async () => {
    agentWs?.ws?.close();
    dataWs?.ws.close();
    await second?.stop();
    if (secondEngine && secondEngine !== cloud?.engine) await secondEngine.close();
    await cloud?.stop();
  });

  it("bridges both sides of the user's group through their node while the account is active", async () => {
    await expect.poll(() => dataWs.joins(groupId), { timeout: 10_000 }).toEqual(['a', 'b']);
    expect(await bridgedIds()).toEqual([groupId, bobGroupId].sort());
  });

  it("closes the user's node connections on every instance at once: /ws/agent and /ws/data, with 1008, not 4003", async () => {
    const disabled = await admin.post(`/api/v1/admin/users/${aliceId}/disable`);
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    expect(disabled.body.user.status).toBe('disabled');
    const started = Date.now();
    expect(await agentWs.closed()).toBe(POLICY_VIOLATION);
    expect(await dataWs.closed).toBe(POLICY_VIOLATION);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses them on every path with 403 AUTH_USER_DISABLED, and keeps their credentials', async () => {
    for (const target of [cloud, second]) {
      const ws = await refusal(sameNode(target).connect());
      expect(ws.status).toBe(403);
      expect(ws.body.code).toBe('AUTH_USER_DISABLED');
      const data = await refusal(DataSocket.open(target, node));
      expect(data.status).toBe(403);
      expect(data.body.code).toBe('AUTH_USER_DISABLED');
    }
    // The session token from its welcome is still unexpired: refused all the same, like the agent token.
    const calls: Array<[string, string, string, unknown?]> = [
      ['POST', '/token/refresh', node.agentToken],
      ['POST', '/heartbeat', agentWs.session, { state: 'ok', uptime_s: 10, version: '0.1.0' }],
      ['GET', '/poll?cursor=0&wait_s=0', agentWs.session],
      ['POST', '/devices/report', agentWs.session, { dongles: [] }],
      ['POST', '/going-offline', agentWs.session, {}],
    ];
    for (const [method, path, token, body] of calls) {
      const reply = await node.http(method, path, token, body);
      expect([path, reply.status, reply.body?.code]).toEqual([path, 403, 'AUTH_USER_DISABLED']);
    }
    // A handshake that authenticated just before the disable gets no welcome either.
    expect(await cloud.agents.welcome(node.agentId)).toBeNull();
    const tokens = await cloud.database.db
      .select()
      .from(agentTokens)
      .where(and(eq(agentTokens.agentId, node.agentId), eq(agentTokens.kind, 'agent')));
    expect(tokens.map((t) => t.revokedAt)).toEqual([null]);
  });

  it("refuses to enroll a machine with the user's enrollment key, and keeps the key", async () => {
    const reply = await register('new-machine');
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('AUTH_USER_DISABLED');
    const made = await cloud.database.db.select().from(agents).where(eq(agents.hostname, 'new-machine'));
    expect(made).toEqual([]);
    const [stored] = await cloud.database.db
      .select()
      .from(enrollmentKeys)
      .where(eq(enrollmentKeys.userId, aliceId));
    expect(stored?.revokedAt).toBeNull();
  });

  it("stops bridging the user's groups without deleting them; other users' groups bridge on", async () => {
    expect(await bridgedIds()).toEqual([bobGroupId]);
    const asAdmin = await admin.get(`/api/v1/groups/${groupId}`);
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.group.mode).not.toBe('inactive');
  });

  it('lets the same nodes connect again once enabled, bridging their groups again, without re-enrolling', async () => {
    const enabled = await admin.post(`/api/v1/admin/users/${aliceId}/enable`);
    expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
    expect(await bridgedIds()).toEqual([groupId, bobGroupId].sort());
    agentWs = sameNode(second);
    expect(await agentWs.connect()).toMatchObject({ type: 'welcome', agent_id: node.agentId });
    dataWs = await DataSocket.open(second, node);
    await expect.poll(() => dataWs.joins(groupId), { timeout: 10_000 }).toEqual(['a', 'b']);
    const heartbeat = await node.http('POST', '/heartbeat', agentWs.session, {
      state: 'ok',
      uptime_s: 20,
      version: '0.1.0',
    });
    expect(heartbeat.status).toBe(200);
    expect((await register('new-machine')).status).toBe(201);
  });

  it('audits the disable and the enable, and logs no node credential', async () => {
    const entries = await cloud.database.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.targetType, 'user'), eq(auditLogs.targetId, aliceId)));
    expect(entries.map((e) => e.action).filter((a) => a.startsWith('admin.'))).toEqual([
      'admin.user_disabled',
      'admin.user_enabled',
    ]);
    for (const logs of [cloud.logs.text(), second.logs.text()]) {
      expect(logs).not.toContain(node.agentToken);
      expect(logs).not.toContain(key);
      expect(logs).not.toContain(agentWs.session);
    }
  });
});
