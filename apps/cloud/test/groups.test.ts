import { randomBytes } from 'node:crypto';
import type { SeenDongle } from '@canopy/protocol';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogs, dongleGroupMembers, dongleGroups, dongles, users } from '../src/db/schema';
import { DongleService } from '../src/dongles/service';
import { conflictReasonOf } from '../src/groups/conflicts';
import { GroupService } from '../src/groups/service';
import { createLogger } from '../src/log';
import { backends } from './backends';
import { Client, type Json, startTestCloud, type TestCloud } from './harness';
import { type RawNode, registerNode } from './raw-node';
import { SseClient } from './sse-client';

const PASSWORD = 'correct horse battery';
const UA = 'groups-test/1.0';

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

describe.each(await backends())('groups on $name', (backend) => {
  let cloud: TestCloud;
  let alice: Client;
  let bob: Client;
  let admin: Client;
  let aliceId: string;
  let bobId: string;
  let aliceNode: RawNode;
  const announced: string[] = [];
  let stopListening: () => Promise<void>;

  /** A dongle paired with `ownerId`, made directly in the database (pairing itself is tested elsewhere). */
  async function dongleOf(
    ownerId: string | null,
    state: 'CLAIMED_ACTIVE' | 'UNCLAIMED' | 'SECURITY_HOLD' | 'RESET_DETECTED' = 'CLAIMED_ACTIVE',
  ) {
    const [row] = await cloud.database.db
      .insert(dongles)
      .values({ deviceId: randomBytes(8).toString('hex'), ownershipState: state, ownerUserId: ownerId })
      .returning();
    if (!row) throw new Error('no dongle row');
    return row;
  }
  const create = (user: Client, a: string, b: string, name = 'Workshop bench') =>
    user.post('/api/v1/groups', { name, dongle_a_id: a, dongle_b_id: b });
  async function groupOf(a: string, b: string, name?: string): Promise<Json> {
    const reply = await create(alice, a, b, name);
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    return reply.body.group;
  }
  const auditOf = (groupId: string) =>
    cloud.database.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.targetType, 'group'), eq(auditLogs.targetId, groupId)))
      .orderBy(auditLogs.createdAt);
  const membersOf = (groupId: string) =>
    cloud.database.db.select().from(dongleGroupMembers).where(eq(dongleGroupMembers.groupId, groupId));
  const expectConflict = (reply: Json, reason: string) => {
    expect(reply.status, JSON.stringify(reply.body)).toBe(409);
    expect(reply.body.code).toBe('GROUP_CONFLICT');
    expect(reply.body.details.reason).toBe(reason);
  };
  const announcedFor = (groupId: string) =>
    announced.filter((m) => m === JSON.stringify({ group_id: groupId }));

  beforeAll(async () => {
    cloud = await startTestCloud(backend);
    alice = new Client(cloud.baseUrl, { 'user-agent': UA });
    aliceId = (await alice.signup('alice@example.com', PASSWORD)).body.user.id;
    bob = new Client(cloud.baseUrl);
    bobId = (await bob.signup('bob@example.com', PASSWORD)).body.user.id;
    await cloud.accounts.createAdmin('root@example.com', PASSWORD, {
      actorUserId: null,
      ip: null,
      userAgent: 'test',
    });
    admin = new Client(cloud.baseUrl);
    expect((await admin.login('root@example.com', PASSWORD)).body.user.role).toBe('super_admin');
    const key = await alice.post('/api/v1/agents/enrollment-keys', {});
    aliceNode = await registerNode(cloud, key.body.secret, 'garage');
    await aliceNode.connect();
    stopListening = await cloud.engine.subscribe('groups:changed', (m) => announced.push(m));
  });
  afterAll(async () => {
    await stopListening?.();
    aliceNode?.ws?.close();
    await cloud?.stop();
  });

  it('creates an inactive group of two paired dongles, shows where each side is heard, and audits it', async () => {
    const a = await dongleOf(aliceId);
    const b = await dongleOf(aliceId);
    await aliceNode.http('POST', '/devices/report', aliceNode.session, { dongles: [seen(a.deviceId)] });
    const reply = await create(alice, a.id, b.id, '  Van ↔ bench  ');
    expect(reply.status).toBe(201);
    const group = reply.body.group;
    expect(reply.body).toMatchObject({ group_id: group.id, status: 'inactive' });
    expect(group).toMatchObject({
      name: 'Van ↔ bench',
      mode: 'inactive',
      a: { dongle_id: a.id, device_id: a.deviceId, online: true, agent_id: aliceNode.agentId },
      b: { dongle_id: b.id, device_id: b.deviceId, online: false, agent_id: null },
      buffer: { a_to_b: 0, b_to_a: 0, pressure: false },
    });
    expect((await alice.get(`/api/v1/groups/${group.id}`)).body.group).toEqual(group);
    expect((await alice.get('/api/v1/groups')).body.groups).toEqual([group]);
    expect((await membersOf(group.id)).map((m) => [m.dongleId, m.side]).sort()).toEqual(
      [
        [a.id, 'a'],
        [b.id, 'b'],
      ].sort(),
    );
    const [entry] = await auditOf(group.id);
    expect(entry).toMatchObject({
      action: 'group.created',
      actorUserId: aliceId,
      userAgent: UA,
      targetId: group.id,
      details: {
        name: 'Van ↔ bench',
        a: { dongle_id: a.id, device_id: a.deviceId },
        b: { dongle_id: b.id, device_id: b.deviceId },
        after: { mode: 'inactive' },
      },
    });
    expect(entry?.ip).toMatch(/127\.0\.0\.1/);
    await expect.poll(() => announcedFor(group.id).length).toBe(1);
  });

  it('activates (degraded while a side is offline), deactivates, and deletes a group, each audited and announced', async () => {
    const a = await dongleOf(aliceId);
    const b = await dongleOf(aliceId);
    await aliceNode.http('POST', '/devices/report', aliceNode.session, { dongles: [seen(a.deviceId)] });
    const group = await groupOf(a.id, b.id);
    const path = `/api/v1/groups/${group.id}`;

    const activated = await alice.post(`${path}/activate`);
    expect(activated.status).toBe(200);
    expect(activated.body.group.mode).toBe('degraded');
    const deactivated = await alice.post(`${path}/deactivate`);
    expect(deactivated.status).toBe(200);
    expect(deactivated.body.group.mode).toBe('inactive');

    // Both sides heard: active. (The cloud's relay may then call it degraded: this test's node has no data
    // connection. Its changes have no actor and are left out below.)
    await aliceNode.http('POST', '/devices/report', aliceNode.session, {
      dongles: [seen(a.deviceId), seen(b.deviceId)],
    });
    expect((await alice.post(`${path}/activate`)).body.group.mode).not.toBe('inactive');

    const deleted = await alice.request('DELETE', path);
    expect(deleted.status).toBe(204);
    expect((await alice.get(path)).body.code).toBe('GROUP_NOT_FOUND');
    expect(await membersOf(group.id)).toEqual([]);

    const all = await auditOf(group.id);
    const byRelay = all.filter((e) => e.actorUserId === null);
    expect(byRelay.every((e) => ['group.degraded', 'group.recovered'].includes(e.action))).toBe(true);
    const entries = all.filter((e) => e.actorUserId !== null);
    expect(entries.map((e) => e.action)).toEqual([
      'group.created',
      'group.activated',
      'group.deactivated',
      'group.activated',
      'group.deleted',
    ]);
    expect(entries[1]?.details).toMatchObject({
      offline_sides: ['b'],
      before: { mode: 'inactive' },
      after: { mode: 'degraded' },
    });
    expect(entries[2]?.details).toMatchObject({ before: { mode: 'degraded' }, after: { mode: 'inactive' } });
    expect(entries[3]?.details).toMatchObject({ offline_sides: [], after: { mode: 'active' } });
    expect(entries[4]).toMatchObject({
      actorUserId: aliceId,
      userAgent: UA,
      details: { reason: 'user', before: { dongle_a_id: a.id, dongle_b_id: b.id }, after: null },
    });
    await expect.poll(() => announcedFor(group.id).length).toBeGreaterThanOrEqual(entries.length);
    // Both dongles are free again.
    await groupOf(a.id, b.id);
  });

  it('refuses the same dongle twice, a dongle of another user, one not paired and working, and one already in a group', async () => {
    const mine = await dongleOf(aliceId);
    const other = await dongleOf(aliceId);
    expectConflict(await create(alice, mine.id, mine.id), 'same_dongle');
    const bobs = await dongleOf(bobId);
    expectConflict(await create(alice, mine.id, bobs.id), 'not_owned');
    expectConflict(await create(alice, crypto.randomUUID(), mine.id), 'not_owned');
    const unclaimed = await dongleOf(null, 'UNCLAIMED');
    expectConflict(await create(alice, unclaimed.id, mine.id), 'not_owned');
    for (const state of ['SECURITY_HOLD', 'RESET_DETECTED'] as const) {
      const unfit = await dongleOf(aliceId, state);
      const reply = await create(alice, mine.id, unfit.id);
      expectConflict(reply, 'not_active');
      expect(reply.body.details).toMatchObject({ dongle_id: unfit.id, ownership_state: state });
    }
    await groupOf(mine.id, other.id);
    const third = await dongleOf(aliceId);
    const taken = await create(alice, third.id, other.id);
    expectConflict(taken, 'in_another_group');
    expect(taken.body.details.dongle_id).toBe(other.id);
    const invalid = await alice.post('/api/v1/groups', { name: '', dongle_a_id: 'x', dongle_b_id: third.id });
    expect(invalid.status).toBe(400);
    expect(invalid.body.details.fields.map((f: Json) => f.path).sort()).toEqual(['dongle_a_id', 'name']);
    const tooLong = await create(alice, third.id, (await dongleOf(aliceId)).id, 'x'.repeat(81));
    expect(tooLong.body.code).toBe('VALIDATION_ERROR');
  });

  it('refuses to activate a group whose dongle went on security hold', async () => {
    const a = await dongleOf(aliceId);
    const b = await dongleOf(aliceId);
    const group = await groupOf(a.id, b.id);
    await cloud.database.db
      .update(dongles)
      .set({ ownershipState: 'SECURITY_HOLD' })
      .where(eq(dongles.id, b.id));
    const reply = await alice.post(`/api/v1/groups/${group.id}/activate`);
    expectConflict(reply, 'not_active');
    expect(reply.body.details.dongle_id).toBe(b.id);
    expect((await alice.get(`/api/v1/groups/${group.id}`)).body.group.mode).toBe('inactive');
  });

  it('lets exactly one of two concurrent creates for the same dongle win; the other gets 409, never 500', async () => {
    for (let round = 0; round < 3; round++) {
      const shared = await dongleOf(aliceId);
      const left = await dongleOf(aliceId);
      const right = await dongleOf(aliceId);
      const replies = await Promise.all([
        create(alice, shared.id, left.id),
        create(alice, right.id, shared.id),
      ]);
      expect(replies.map((r) => r.status).sort()).toEqual([201, 409]);
      const lost = replies.find((r) => r.status === 409);
      expect(lost?.body).toMatchObject({ code: 'GROUP_CONFLICT', details: { reason: 'in_another_group' } });
      const [member] = await cloud.database.db
        .select()
        .from(dongleGroupMembers)
        .where(eq(dongleGroupMembers.dongleId, shared.id));
      expect(member?.groupId).toBe(replies.find((r) => r.status === 201)?.body.group_id);
      // The loser left nothing behind: its other dongle is in no group.
      const loser = lost === replies[0] ? left : right;
      expect(
        await cloud.database.db
          .select()
          .from(dongleGroupMembers)
          .where(eq(dongleGroupMembers.dongleId, loser.id)),
      ).toEqual([]);
    }
  });

  it('keeps the group rules in the database itself', async () => {
    const db = cloud.database.db;
    const a = await dongleOf(aliceId);
    const b = await dongleOf(aliceId);
    const c = await dongleOf(aliceId);
    const d = await dongleOf(aliceId);
    const bobs = await dongleOf(bobId);
    const group = await groupOf(a.id, b.id);
    const failure = (query: Promise<unknown>) =>
      query.then(
        () => null,
        (err: unknown) => err,
      );
    const insertMember = (values: typeof dongleGroupMembers.$inferInsert) =>
      failure(db.insert(dongleGroupMembers).values(values));
    const insertGroup = (values: Partial<typeof dongleGroups.$inferInsert>) =>
      failure(
        db
          .insert(dongleGroups)
          .values({ ownerUserId: aliceId, name: 'x', dongleAId: c.id, dongleBId: d.id, ...values }),
      );

    // A group row without members, to try members against.
    const [other] = await db
      .insert(dongleGroups)
      .values({ ownerUserId: aliceId, name: 'other', dongleAId: c.id, dongleBId: d.id })
      .returning();
    if (!other) throw new Error('no group row');
    // A dongle in at most one group.
    const twice = await insertMember({ dongleId: a.id, groupId: other.id, ownerUserId: aliceId, side: 'a' });
    expect(conflictReasonOf(twice)).toBe('in_another_group');
    expect(conflictReasonOf(await insertGroup({ dongleAId: a.id, dongleBId: bobs.id }))).toBe(
      'in_another_group',
    );
    // One member per side.
    expect(
      await insertMember({ dongleId: c.id, groupId: group.id, ownerUserId: aliceId, side: 'a' }),
    ).toBeInstanceOf(Error);
    expect(
      await insertMember({ dongleId: c.id, groupId: other.id, ownerUserId: aliceId, side: 'c' as 'a' }),
    ).toBeInstanceOf(Error);
    // Members are the group owner's dongles: neither foreign key lets another user's dongle in.
    const foreign = await insertMember({
      dongleId: bobs.id,
      groupId: other.id,
      ownerUserId: aliceId,
      side: 'b',
    });
    expect(conflictReasonOf(foreign)).toBe('not_owned');
    expect(
      await insertMember({ dongleId: bobs.id, groupId: other.id, ownerUserId: bobId, side: 'b' }),
    ).toBeInstanceOf(Error);
    // Two different dongles, a known mode, a name.
    const sameTwice = await insertGroup({ dongleAId: bobs.id, dongleBId: bobs.id, name: 'same' });
    expect(conflictReasonOf(sameTwice)).toBe('same_dongle');
    await db.delete(dongleGroups).where(eq(dongleGroups.id, other.id));
    expect(await insertGroup({ mode: 'bridging' as 'active' })).toBeInstanceOf(Error);
    expect(await insertGroup({ name: '' })).toBeInstanceOf(Error);
    expect(await insertGroup({})).toBeNull();
    // A dongle in a group cannot lose its owner (unpair must remove the group first).
    expect(
      await failure(
        db
          .update(dongles)
          .set({ ownerUserId: null, ownershipState: 'UNCLAIMED' })
          .where(eq(dongles.id, a.id)),
      ),
    ).toBeInstanceOf(Error);
    // Deleting a group deletes its members.
    await db.delete(dongleGroups).where(eq(dongleGroups.id, group.id));
    expect(await membersOf(group.id)).toEqual([]);
  });

  it('answers another user 404 GROUP_NOT_FOUND on every route and changes nothing; a super_admin may act', async () => {
    const a = await dongleOf(aliceId);
    const b = await dongleOf(aliceId);
    const group = await groupOf(a.id, b.id);
    const path = `/api/v1/groups/${group.id}`;
    for (const reply of [
      await bob.get(path),
      await bob.post(`${path}/activate`),
      await bob.post(`${path}/deactivate`),
      await bob.request('DELETE', path),
      await bob.get(`/api/v1/streams/groups/${group.id}/console`),
    ]) {
      expect(reply.status).toBe(404);
      expect(reply.body.code).toBe('GROUP_NOT_FOUND');
    }
    // The same answer as for a group that never existed.
    const unknown = await bob.get(`/api/v1/groups/${crypto.randomUUID()}`);
    expect(unknown.body).toEqual((await bob.get(path)).body);
    expect((await bob.get('/api/v1/groups')).body.groups).toEqual([]);
    expect((await alice.get(path)).body.group.mode).toBe('inactive');
    expect((await auditOf(group.id)).map((e) => e.action)).toEqual(['group.created']);
    expect((await new Client(cloud.baseUrl).get(path)).body.code).toBe('AUTH_REQUIRED');

    // The owner may watch the group's live console.
    const watching = new AbortController();
    const stream = await fetch(`${cloud.baseUrl}/api/v1/streams/groups/${group.id}/console`, {
      headers: { cookie: [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      signal: watching.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
    watching.abort();

    expect((await admin.get(path)).body.group.id).toBe(group.id);
    expect((await admin.post(`${path}/activate`)).body.group.mode).toBe('degraded');
    expect((await admin.request('DELETE', path)).status).toBe(204);
    const deleted = (await auditOf(group.id)).at(-1);
    expect(deleted?.action).toBe('group.deleted');
    expect(deleted?.actorUserId).not.toBe(aliceId);
  });

  it('tells the group console where both dongles are on connecting, and when one comes or goes', async () => {
    const a = await dongleOf(aliceId);
    const b = await dongleOf(aliceId);
    await aliceNode.http('POST', '/devices/report', aliceNode.session, { dongles: [seen(a.deviceId)] });
    const group = await groupOf(a.id, b.id);
    const sse = await SseClient.open(`${cloud.baseUrl}/api/v1/streams/groups/${group.id}/console`, {
      cookie: [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    });
    try {
      expect(sse.status).toBe(200);
      await sse.waitFor((c) => c.of('presence').length === 2);
      const presence = () => sse.of('presence').map((e) => [e.data.dongle_id, e.data.online]);
      expect(presence()).toEqual([
        [a.id, true],
        [b.id, false],
      ]);
      await aliceNode.http('POST', '/devices/report', aliceNode.session, {
        dongles: [seen(a.deviceId), seen(b.deviceId)],
      });
      await sse.waitFor((c) => c.of('presence').length === 3);
      expect(presence()[2]).toEqual([b.id, true]);
      expect(sse.of('presence')[2]?.data.agent_id).toBe(aliceNode.agentId);
    } finally {
      sse.close();
    }
  });

  it('deletes the group of a dongle its owner unpairs, or a super_admin force-unpairs, audited with reason unpair', async () => {
    const a = await dongleOf(aliceId);
    const b = await dongleOf(aliceId);
    const group = await groupOf(a.id, b.id);
    expect((await alice.post(`/api/v1/dongles/${b.id}/unpair`)).status).toBe(204);
    expect((await alice.get(`/api/v1/groups/${group.id}`)).body.code).toBe('GROUP_NOT_FOUND');
    expect(await membersOf(group.id)).toEqual([]);
    const [row] = await cloud.database.db.select().from(dongles).where(eq(dongles.id, b.id));
    expect(row).toMatchObject({ ownerUserId: null, ownershipState: 'UNCLAIMED' });
    const deleted = (await auditOf(group.id)).at(-1);
    expect(deleted).toMatchObject({
      action: 'group.deleted',
      actorUserId: aliceId,
      details: { reason: 'unpair', dongle_id: b.id, after: null },
    });
    await expect.poll(() => announcedFor(group.id).length).toBe(2);

    const c = await dongleOf(aliceId);
    const again = await groupOf(a.id, c.id);
    expect((await admin.post(`/api/v1/admin/dongles/${a.id}/force-unpair`)).status).toBe(204);
    expect((await admin.get(`/api/v1/groups/${again.id}`)).body.code).toBe('GROUP_NOT_FOUND');
    expect((await auditOf(again.id)).at(-1)?.details).toMatchObject({ reason: 'unpair', dongle_id: a.id });
  });

  it('gives the relay its view: runtime, bridged groups, a dongle’s group, and mode changes only while bridging', async () => {
    // A database and engine of its own: the cloud's running relay would move a bridging group's mode itself.
    const bare = await backend.open();
    try {
      await bare.database.migrate();
      const db = bare.database.db;
      const log = createLogger('silent');
      const now = () => new Date();
      const [owner] = await db
        .insert(users)
        .values({ email: 'relay-view@example.com', passwordHash: 'not used' })
        .returning();
      if (!owner) throw new Error('no user row');
      const paired = () =>
        db
          .insert(dongles)
          .values({
            deviceId: randomBytes(8).toString('hex'),
            ownershipState: 'CLAIMED_ACTIVE',
            ownerUserId: owner.id,
          })
          .returning()
          .then(([row]) => row as typeof dongles.$inferSelect);
      const bareDongles = new DongleService({
        db,
        engine: bare.engine,
        log,
        now,
        agentIdleTimeoutMs: 90_000,
        askToScan: async () => {},
      });
      const groups = new GroupService({ db, engine: bare.engine, log, now, dongles: bareDongles });
      const heard: string[] = [];
      const stop = await bare.engine.subscribe('groups:changed', (m) => heard.push(m));
      const actor = { id: owner.id, role: 'user' };
      const audit = { actorUserId: owner.id, ip: '127.0.0.1', userAgent: UA };

      const a = await paired();
      const b = await paired();
      const group = await groups.create(
        actor,
        { name: 'Relay view', dongle_a_id: a.id, dongle_b_id: b.id },
        audit,
      );
      const runtime = {
        id: group.id,
        owner_user_id: owner.id,
        mode: 'inactive',
        a: { dongle_id: a.id, device_id: a.deviceId },
        b: { dongle_id: b.id, device_id: b.deviceId },
      };
      expect(await groups.runtime(group.id)).toEqual(runtime);
      expect(await groups.runtime(crypto.randomUUID())).toBeNull();
      expect(await groups.groupOfDongle(b.id)).toEqual({ ...runtime, side: 'b' });
      expect(await groups.groupOfDongle((await paired()).id)).toBeNull();
      expect(await groups.bridged()).toEqual([]);

      // An inactive group stays inactive whatever the relay says; deactivating it again changes nothing.
      await groups.setMode(group.id, 'degraded', 'side b offline');
      await groups.deactivate(actor, group.id, audit);
      expect((await groups.runtime(group.id))?.mode).toBe('inactive');

      // No node hears either side: activated, it is degraded.
      expect((await groups.activate(actor, group.id, audit)).mode).toBe('degraded');
      expect((await groups.activate(actor, group.id, audit)).mode).toBe('degraded');
      expect(await groups.bridged()).toEqual([{ ...runtime, mode: 'degraded' }]);
      await groups.setMode(group.id, 'active', 'both sides are online');
      await groups.setMode(group.id, 'active', 'both sides are online');
      await groups.setMode(group.id, 'degraded', 'side a offline');
      expect((await groups.get(actor, group.id)).mode).toBe('degraded');

      const entries = await db
        .select()
        .from(auditLogs)
        .where(eq(auditLogs.targetId, group.id))
        .orderBy(auditLogs.createdAt);
      expect(entries.map((e) => [e.action, e.actorUserId, e.details.reason ?? null])).toEqual([
        ['group.created', owner.id, null],
        ['group.activated', owner.id, null],
        ['group.recovered', null, 'both sides are online'],
        ['group.degraded', null, 'side a offline'],
      ]);
      expect(entries[3]?.details).toMatchObject({ before: { mode: 'active' }, after: { mode: 'degraded' } });
      // One announcement per change; the calls that changed nothing announce nothing.
      await expect.poll(() => heard.length).toBe(4);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heard).toEqual(Array(4).fill(JSON.stringify({ group_id: group.id })));
      await stop();
    } finally {
      await bare.cleanup();
    }
  });

  it('shows the buffer counts the relay reports', async () => {
    const a = await dongleOf(aliceId);
    const b = await dongleOf(aliceId);
    const group = await groupOf(a.id, b.id);
    const withBuffer = new GroupService({
      db: cloud.database.db,
      engine: cloud.engine,
      log: createLogger('silent'),
      now: () => new Date(),
      dongles: { list: async () => [] },
      bufferOf: async (id) => ({ a_to_b: id === group.id ? 12_034 : 0, b_to_a: 0, pressure: true }),
    });
    const shown = await withBuffer.get({ id: aliceId, role: 'user' }, group.id);
    expect(shown.buffer).toEqual({ a_to_b: 12_034, b_to_a: 0, pressure: true });
  });
});
