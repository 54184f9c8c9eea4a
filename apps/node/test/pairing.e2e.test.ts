import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import path from 'node:path';
import { encodeRemp, UNKNOWN_DEVICE_ID } from '@canopy/remp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimProcess } from '../../../tools/dongle-sim/test/harness';
import { backends } from '../../cloud/test/backends';
import { Client, type Json } from '../../cloud/test/harness';
import { run as cloudRun, serve } from '../../cloud/test/process';
import { freePort, type start, tempDirs, waitFor } from './cli-process';
import { discoveryEnv, pinOf as simPin, startDongles, startLoopbackNode, wrongPin } from './dongle-rig';

// Pairing end to end (spec 002 §11–12): dashboard API → canopy-cloud → WS → canopy-node → REMP over UDP →
// canopy-dongle-sim, and back. Discovery on loopback only.

describe.each(await backends())('pairing through a node and the simulator, cloud on $name', (backend) => {
  const dirs = tempDirs();
  const discoveryPort = randomInt(40_000, 50_000);
  const cloudDir = path.join(dirs.root, 'cloud');
  let cloudEnv: Record<string, string>;
  let cloud: Awaited<ReturnType<typeof serve>>;
  let cleanupBackend: () => Promise<void> = async () => {};
  let alice: Client;
  let bob: Client;
  let admin: Client;
  let aliceId: string;
  let node: ReturnType<typeof start> | undefined;
  let sim: SimProcess;
  /** device id → the cloud's dongle id */
  let ids = new Map<string, string>();
  const nodeEnv = discoveryEnv(dirs, discoveryPort);
  const device = (i: number) => sim.dongles[i]?.deviceId as string;
  const pinOf = (i: number) => simPin(sim, device(i));
  const dongle = async (user: Client, i: number) =>
    (await user.get(`/api/v1/dongles/${ids.get(device(i))}`)).body;
  const startPairing = (user: Client, i: number) =>
    user.post(`/api/v1/dongles/${ids.get(device(i))}/pairing-mode`, { action: 'start' });
  const submit = (user: Client, i: number, body: Json) =>
    user.post(`/api/v1/dongles/${ids.get(device(i))}/pairing-submit`, body);
  const audit = async (action: string) =>
    ((await admin.get(`/api/v1/admin/audit-logs?action=${action}`)).body.entries ?? []) as Json[];

  beforeAll(async () => {
    const port = await freePort();
    cloudEnv = { CANOPY_DATA_DIR: cloudDir, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` };
    if (backend.name === 'postgres+redis') {
      const opened = await backend.open();
      cloudEnv.DATABASE_URL = opened.databaseUrl ?? '';
      cloudEnv.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
      cloudEnv.REDIS_KEY_PREFIX = `canopy-pairing-${randomBytes(4).toString('hex')}:`;
      cleanupBackend = opened.cleanup;
    }
    cloud = await serve(cloudEnv);
    const made = await cloudRun(
      ['create-admin', '--email', 'admin@example.com'],
      cloudEnv,
      'correct horse battery\n',
    );
    expect(made.code, made.stderr).toBe(0);
    admin = new Client(cloud.url);
    expect((await admin.login('admin@example.com')).status).toBe(200);
    alice = new Client(cloud.url, { 'user-agent': 'pairing-test/alice' });
    await alice.signup('alice@example.com');
    aliceId = (await alice.get('/api/v1/auth/me')).body.user.id;
    bob = new Client(cloud.url);
    await bob.signup('bob@example.com');

    ({ node } = await startLoopbackNode({
      cloudUrl: cloud.url,
      owner: alice,
      env: nodeEnv,
      dirs,
      name: 'garage',
    }));
    ({ sim, ids } = await startDongles({ owner: alice, discoveryPort, count: 3 }));
  });

  afterAll(async () => {
    await sim?.stop();
    await node?.stop('SIGTERM');
    await cloud?.stop();
    await cleanupBackend();
    dirs.cleanup();
  });

  it('pairs a dongle with the PIN it shows: owned, token stored encrypted, both steps audited', async () => {
    const started = await startPairing(alice, 0);
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.dongle_id).toBe(ids.get(device(0)));
    const left = Date.parse(started.body.expires_at) - Date.now();
    expect(left).toBeGreaterThan(100_000);
    expect(left).toBeLessThanOrEqual(121_000);
    const pin = await pinOf(0);
    const paired = await submit(alice, 0, { pairing_session_id: started.body.pairing_session_id, pin });
    expect(paired.status, JSON.stringify(paired.body)).toBe(200);
    expect(paired.body).toEqual({ dongle_id: ids.get(device(0)), paired: true, owner_user_id: aliceId });
    expect((await dongle(alice, 0)).dongle).toMatchObject({ owned: true, ownership_state: 'CLAIMED_ACTIVE' });
    expect(((await sim.api('GET', `/dongles/${device(0)}`)).body as Json).paired).toBe(true);
    const [startEntry] = await audit('dongle.pairing_started');
    expect(startEntry).toMatchObject({ target_id: ids.get(device(0)), user_agent: 'pairing-test/alice' });
    expect(startEntry.ip).toBeTruthy();
    const [pairEntry] = await audit('dongle.paired');
    expect(pairEntry.details).toMatchObject({
      before: { owner_user_id: null, ownership_state: 'UNCLAIMED' },
      after: { owner_user_id: aliceId, ownership_state: 'CLAIMED_ACTIVE' },
    });
    // The PIN is in no log line of the cloud or the node.
    expect(cloud.output()).not.toContain(pin);
  });

  it('answers 404 to another user on every route of a dongle their nodes do not see', async () => {
    const id = ids.get(device(0));
    const replies = await Promise.all([
      bob.get(`/api/v1/dongles/${id}`),
      bob.post(`/api/v1/dongles/${id}/pairing-mode`, { action: 'start' }),
      bob.post(`/api/v1/dongles/${id}/pairing-submit`, {
        pairing_session_id: '7e0b8d1c-2f4a-4b6e-9c3d-1a2b3c4d5e6f',
        pin: '123456',
      }),
      bob.post(`/api/v1/dongles/${id}/unpair`),
    ]);
    for (const reply of replies) {
      expect(reply.status).toBe(404);
      expect(reply.body.code).toBe('DONGLE_NOT_FOUND');
    }
    expect((await bob.get('/api/v1/dongles')).body.dongles).toEqual([]);
  });

  it('puts a dongle on SECURITY_HOLD after 5 wrong PINs; only a super_admin clears it', async () => {
    const started = await startPairing(alice, 1);
    expect(started.status).toBe(200);
    const wrong = wrongPin(await pinOf(1));
    for (let attempt = 1; attempt <= 4; attempt++) {
      const reply = await submit(alice, 1, {
        pairing_session_id: started.body.pairing_session_id,
        pin: wrong,
      });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({
        code: 'PAIRING_PIN_INVALID',
        details: { attempts_left: 5 - attempt },
      });
    }
    const fifth = await submit(alice, 1, { pairing_session_id: started.body.pairing_session_id, pin: wrong });
    expect(fifth.status).toBe(409);
    expect(fifth.body).toMatchObject({
      code: 'PAIRING_SECURITY_HOLD',
      message: 'Security hold — contact support',
    });
    expect((await dongle(alice, 1)).dongle.ownership_state).toBe('SECURITY_HOLD');
    expect((await startPairing(alice, 1)).body.code).toBe('PAIRING_SECURITY_HOLD');
    expect((await audit('dongle.security_hold_entered'))[0]).toMatchObject({ target_id: ids.get(device(1)) });

    expect((await alice.post(`/api/v1/dongles/${ids.get(device(1))}/unpair`)).status).toBe(404); // not hers
    expect((await alice.post(`/api/v1/admin/dongles/${ids.get(device(1))}/force-unpair`)).status).toBe(403);
    const held = (await admin.get('/api/v1/admin/dongles?state=SECURITY_HOLD')).body.dongles as Json[];
    expect(held.map((d) => d.device_id)).toEqual([device(1)]);
    expect((await alice.get('/api/v1/admin/dongles')).status).toBe(403);
    expect((await admin.post(`/api/v1/admin/dongles/${ids.get(device(1))}/force-unpair`)).status).toBe(204);
    expect((await dongle(alice, 1)).dongle.ownership_state).toBe('UNCLAIMED');
    expect((await audit('dongle.force_unpaired'))[0].details).toMatchObject({ hold_cleared: true });
    expect((await audit('dongle.security_hold_cleared'))[0]).toMatchObject({ target_id: ids.get(device(1)) });
  });

  it('lets the first of two concurrent correct submits win and tells the second why', async () => {
    const started = await startPairing(alice, 2);
    expect(started.status).toBe(200);
    const pin = await pinOf(2);
    const body = { pairing_session_id: started.body.pairing_session_id, pin };
    const [a, b] = await Promise.all([submit(alice, 2, body), submit(alice, 2, body)]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(['PAIRING_IN_PROGRESS', 'PAIRING_SESSION_INVALID']).toContain(loser.body.code);
    expect((await dongle(alice, 2)).dongle.ownership_state).toBe('CLAIMED_ACTIVE');
  });

  const CONFIG = {
    bitrate: 250_000,
    sample_point_permille: 875,
    mode: 'normal',
    use_raw: false,
    prescaler: 16,
    sjw: 1,
    tseg1: 13,
    tseg2: 2,
    auto_retx: true,
    tx_pause: false,
    protocol_exc: false,
  };
  const canConfig = (user: Client, i: number, body: Json) =>
    user.request('PUT', `/api/v1/dongles/${ids.get(device(i))}/can-config`, { json: body });

  it('applies a CAN configuration through the node and shows the dongle’s ACK; refuses invalid ones', async () => {
    const applied = await canConfig(alice, 2, CONFIG);
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    // With use_raw off the dongle derives its own bit timing: the ACK says what it runs.
    expect(applied.body).toMatchObject({
      applied: true,
      dongle_status: 'ok',
      effective: { bitrate: 250_000, sample_point_permille: 875, mode: 'normal', auto_retx: true },
    });
    expect(Date.parse(applied.body.applied_at)).toBeGreaterThan(Date.now() - 10_000);
    const onDongle = (await sim.api('GET', `/dongles/${device(2)}`)).body as Json;
    expect(onDongle.can_config).toMatchObject({ bitrate: 250_000 });

    const stored = (await alice.get(`/api/v1/dongles/${ids.get(device(2))}/can-config`)).body.can_config;
    expect(stored).toEqual({ config: applied.body.effective, applied_at: applied.body.applied_at });
    const invalid = await canConfig(alice, 2, { ...CONFIG, bitrate: 123_456, sample_point_permille: 990 });
    expect(invalid.status).toBe(400);
    expect(invalid.body.details.fields.map((f: Json) => f.path).sort()).toEqual([
      'bitrate',
      'sample_point_permille',
    ]);

    await sim.api('POST', `/dongles/${device(2)}/can-config/fail-next`);
    const failed = await canConfig(alice, 2, { ...CONFIG, bitrate: 500_000 });
    expect(failed.body).toMatchObject({
      applied: false,
      dongle_status: 'apply_failed',
      effective: { bitrate: 250_000 },
    });
    const entries = await audit('dongle.can_config_applied');
    expect(entries.map((e) => e.details.dongle_status)).toEqual(['apply_failed', 'ok']);
    expect((await canConfig(bob, 2, CONFIG)).status).toBe(404);
  });

  it('runs an allowlisted command: queued, then done with its output; refuses anything else', async () => {
    const id = ids.get(device(2));
    const queued = await alice.post(`/api/v1/dongles/${id}/commands`, {
      command: 'remote',
      args: ['status'],
    });
    expect(queued.status, JSON.stringify(queued.body)).toBe(202);
    expect(queued.body.status).toBe('queued');
    const done = await waitFor(
      'the command to finish',
      async () => {
        const c = (await alice.get(`/api/v1/dongles/${id}/commands/${queued.body.command_id}`)).body;
        return c.status === 'queued' || c.status === 'running' ? undefined : c;
      },
      10_000,
    );
    expect(done).toMatchObject({ status: 'done', exit_code: 0, command: 'remote status' });
    expect(done.stdout.length).toBeGreaterThan(10);
    const refused = await alice.post(`/api/v1/dongles/${id}/commands`, { command: 'reboot', args: [] });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('VALIDATION_ERROR');
    const history = (await alice.get(`/api/v1/dongles/${id}/commands`)).body.commands as Json[];
    expect(history.map((c) => c.command)).toEqual(['remote status']);
    expect((await audit('dongle.command_sent'))[0].details).toMatchObject({ command: 'remote status' });
    expect((await bob.get(`/api/v1/dongles/${id}/commands/${queued.body.command_id}`)).status).toBe(404);
    expect((await bob.post(`/api/v1/dongles/${id}/commands`, { command: 'help' })).status).toBe(404);
  });

  it('marks RESET_DETECTED when a factory-reset dongle rejects its token', async () => {
    const id = ids.get(device(2));
    expect((await sim.api('POST', `/dongles/${device(2)}/factory-reset`)).status).toBe(200);
    const queued = await alice.post(`/api/v1/dongles/${id}/commands`, { command: 'help' });
    expect(queued.status).toBe(202);
    await waitFor(
      'the reset to be detected',
      async () => ((await dongle(alice, 2)).dongle.ownership_state === 'RESET_DETECTED' ? true : undefined),
      10_000,
    );
    const failed = (await alice.get(`/api/v1/dongles/${id}/commands/${queued.body.command_id}`)).body;
    expect(failed).toMatchObject({ status: 'error', error: 'The dongle rejected its token' });
    expect((await audit('dongle.reset_detected'))[0]).toMatchObject({ target_id: id });
  });

  it('unpairs: owner and token cleared, audited', async () => {
    const id = ids.get(device(0));
    expect((await alice.post(`/api/v1/dongles/${id}/unpair`)).status).toBe(204);
    expect((await dongle(alice, 0)).dongle).toMatchObject({ owned: false, ownership_state: 'UNCLAIMED' });
    const mine = (await admin.get(`/api/v1/admin/dongles?q=alice@`)).body.dongles as Json[];
    // Still hers: the dongle whose reset was detected (it keeps its owner until paired again or unpaired).
    expect(mine.map((d) => [d.device_id, d.owner_email, d.ownership_state])).toEqual([
      [device(2), 'alice@example.com', 'RESET_DETECTED'],
    ]);
    expect((await audit('dongle.unpaired'))[0].details).toMatchObject({
      before: { owner_user_id: aliceId, ownership_state: 'CLAIMED_ACTIVE' },
      after: { owner_user_id: null, ownership_state: 'UNCLAIMED' },
    });
  });

  it('holds a dongle after more than 10 pairing starts in an hour; then even its owner cannot unpair it', async () => {
    const first = await startPairing(alice, 0);
    const paired = await submit(alice, 0, {
      pairing_session_id: first.body.pairing_session_id,
      pin: await pinOf(0),
    });
    expect(paired.status).toBe(200);
    // Two starts so far this hour (the first test's and this one); eight more are allowed.
    for (let i = 3; i <= 10; i++) expect((await startPairing(alice, 0)).status).toBe(200);
    const eleventh = await startPairing(alice, 0);
    expect(eleventh.status).toBe(409);
    expect(eleventh.body.code).toBe('PAIRING_SECURITY_HOLD');
    expect((await audit('dongle.security_hold_entered'))[0].details).toMatchObject({
      reason: 'more than 10 pairing starts in an hour',
    });
    const unpair = await alice.post(`/api/v1/dongles/${ids.get(device(0))}/unpair`);
    expect(unpair.status).toBe(409);
    expect(unpair.body.code).toBe('PAIRING_SECURITY_HOLD');
  });

  it('clears that hold on a super_admin’s word: the owner has the dongle back and may pair again', async () => {
    const id = ids.get(device(0));
    expect((await alice.post(`/api/v1/admin/dongles/${id}/clear-hold`)).status).toBe(403);
    const cleared = await admin.post(`/api/v1/admin/dongles/${id}/clear-hold`);
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
    expect(cleared.body).toEqual({ dongle_id: id, ownership_state: 'CLAIMED_ACTIVE' });
    expect((await admin.post(`/api/v1/admin/dongles/${id}/clear-hold`)).body.code).toBe('CONFLICT');
    // Its token still works: a command runs through the node.
    const queued = await alice.post(`/api/v1/dongles/${id}/commands`, { command: 'time status' });
    expect(queued.status).toBe(202);
    await waitFor('the command to finish', async () => {
      const c = (await alice.get(`/api/v1/dongles/${id}/commands/${queued.body.command_id}`)).body;
      return c.status === 'done' ? c : undefined;
    });
    // The hour's pairing starts were forgotten with the hold.
    expect((await startPairing(alice, 0)).status).toBe(200);
    const entry = (await audit('dongle.security_hold_cleared'))[0];
    expect(entry).toMatchObject({ target_id: id });
    expect(entry.details).toMatchObject({
      how: 'clear_hold',
      before: { ownership_state: 'SECURITY_HOLD' },
      after: { ownership_state: 'CLAIMED_ACTIVE', owner_user_id: aliceId },
    });
  });

  it('holds a claimed dongle when one LAN address has more than 20 tokens rejected in a minute', async () => {
    const id = ids.get(device(0));
    const port = sim.dongles[0]?.port as number;
    // Someone on the LAN guessing tokens: 21 CLI requests with a wrong one, straight at the dongle.
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    for (let seq = 0; seq < 21; seq++) {
      const datagram = encodeRemp({
        type: 'cli',
        flags: 0,
        fwBuild: 0,
        deviceId: UNKNOWN_DEVICE_ID,
        seq,
        timestampUs: 0n,
        token: randomBytes(32),
        cli: { action: 'request', corrId: randomUUID(), allowDangerous: false, command: 'help' },
      });
      await new Promise<void>((resolve, reject) =>
        socket.send(datagram, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
      );
    }
    socket.close();
    await alice.post('/api/v1/dongles/scan'); // the next ANNOUNCE carries the count; the node reports it
    await waitFor(
      'the hold',
      async () => ((await dongle(alice, 0)).dongle.ownership_state === 'SECURITY_HOLD' ? true : undefined),
      15_000,
    );
    const entry = (await audit('dongle.security_hold_entered'))[0];
    expect(entry).toMatchObject({ target_id: id, actor_user_id: null });
    expect(entry.details).toMatchObject({
      reason: 'more than 20 rejected tokens a minute from one LAN address',
      lan_ip: '127.0.0.1',
      failures_per_minute: 21,
    });
  });

  it('refuses pairing with AGENT_OFFLINE when no node of the user is online', async () => {
    expect(await node?.stop('SIGTERM')).toBe(0);
    node = undefined;
    const reply = await startPairing(alice, 0);
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe('AGENT_OFFLINE');
  });
});
