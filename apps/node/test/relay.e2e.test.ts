import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../cloud/test/backends';
import { Client, type Json } from '../../cloud/test/harness';
import { serve } from '../../cloud/test/process';
import { SseClient } from '../../cloud/test/sse-client';
import { freePort, tempDirs, waitFor } from './cli-process';
import { type RelayRig, startRelayRig } from './relay-rig';

// The CAN relay end to end (spec 002 §13.3): dongle A (canopy-dongle-sim) → node A → canopy-cloud (WS
// /ws/data, a buffer per direction) → node B → dongle B, and back. The simulators' traffic generators send
// numbered frames; their sinks check every frame that reaches the other bus: missing, repeated, out of order.

describe.each(await backends())('the CAN relay through two nodes, cloud on $name', (backend) => {
  const dirs = tempDirs();
  let cloud: Awaited<ReturnType<typeof serve>>;
  let cleanupBackend: () => Promise<void> = async () => {};
  let rig: RelayRig;

  beforeAll(async () => {
    const port = await freePort();
    const env: Record<string, string> = {
      CANOPY_DATA_DIR: path.join(dirs.root, 'cloud'),
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
    };
    if (backend.name === 'postgres+redis') {
      const opened = await backend.open();
      env.DATABASE_URL = opened.databaseUrl ?? '';
      env.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
      env.REDIS_KEY_PREFIX = `canopy-relay-${randomBytes(4).toString('hex')}:`;
      cleanupBackend = opened.cleanup;
    }
    cloud = await serve(env);
    rig = await startRelayRig({ cloudA: cloud.url });
  }, 90_000);

  afterAll(async () => {
    await rig?.stop();
    await cloud?.stop();
    await cleanupBackend();
    dirs.cleanup();
  });

  it('relays 100,000 frames each way at once with none lost, repeated or reordered', async () => {
    const { simA, simB } = rig;
    for (const sim of [simA, simB]) await rig.resetSink(sim);
    const started = Date.now();
    for (const sim of [simA, simB]) {
      const reply = await rig.traffic(sim, {
        rate: 9000,
        ids: ['0x100', '0x101', '0x102', '0x103'],
        count: 100_000,
      });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    }
    for (const sim of [simB, simA]) {
      const done = await rig.settledSink(sim, 100_000, 90_000);
      if (done.frames !== 100_000)
        console.log('relay counters of the nodes:', JSON.stringify(await rig.relayHealth()));
      expect(done).toMatchObject({ frames: 100_000, gaps: 0, missing: 0, duplicates: 0, out_of_order: 0 });
    }
    console.log(`100,000 frames each way in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // The operator sees the same on /metrics (from loopback, no token configured).
    const metrics = await (await fetch(`${cloud.url}/metrics`)).text();
    const frames = (direction: string) =>
      Number(
        new RegExp(`^canopy_relay_frames_total\\{direction="${direction}"\\} (\\d+)$`, 'm').exec(
          metrics,
        )?.[1],
      );
    expect(frames('in')).toBeGreaterThanOrEqual(200_000);
    expect(frames('out')).toBeGreaterThanOrEqual(200_000);
    expect(metrics).toMatch(/^canopy_relay_attachments 2$/m);
  }, 120_000);

  it('shows relayed frames and group state on the group console; sends typed frames, owner only, audited', async () => {
    const cookie = [...rig.alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const sse = await SseClient.open(`${cloud.url}/api/v1/streams/groups/${rig.groupId}/console`, { cookie });
    expect(sse.status).toBe(200);
    try {
      await rig.resetSink(rig.simB);
      // Typed in the console: onto B's bus, as if A's dongle had read it.
      const sent = await rig.alice.post(`/api/v1/groups/${rig.groupId}/frames`, {
        to: 'b',
        frames: [
          { id: '0x123', data: '00000000' },
          { id: '0x123', data: '00000001' },
          { id: 0x18daf110, data: 'AABB' },
        ],
      });
      expect(sent.status, JSON.stringify(sent.body)).toBe(202);
      expect(sent.body).toEqual({ queued: 3 });
      await waitFor('the typed frames on B', async () =>
        (await rig.sink(rig.simB)).frames === 3 ? true : undefined,
      );
      const frames = await sse.waitForEvents(3, 'can_frame', 10_000);
      expect(frames.map((e) => [e.data.id, e.data.is_extended, e.data.data])).toEqual([
        ['0x123', false, '00000000'],
        ['0x123', false, '00000001'],
        ['0x18DAF110', true, 'AABB'],
      ]);
      expect(frames[0]?.data).toMatchObject({
        group_id: rig.groupId,
        dongle_id: rig.dongleA,
        direction: 'rx',
      });
      const bad = await rig.alice.post(`/api/v1/groups/${rig.groupId}/frames`, {
        to: 'b',
        frames: [{ id: '0x800', extended: false, data: '00' }],
      });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_ERROR');
      const bob = new Client(cloud.url);
      await bob.signup('bob@example.com');
      const stranger = await bob.post(`/api/v1/groups/${rig.groupId}/frames`, {
        to: 'b',
        frames: [{ id: '0x123', data: '00' }],
      });
      expect(stranger.status).toBe(404);
      expect(stranger.body.code).toBe('GROUP_NOT_FOUND');
      const bobs = await SseClient.open(`${cloud.url}/api/v1/streams/groups/${rig.groupId}/console`, {
        cookie: [...bob.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      });
      expect(bobs.status).toBe(404);
    } finally {
      sse.close();
    }
  });

  it('buffers while side B is offline (DEGRADED) and replays every frame in order when it returns', async () => {
    const { simA, simB } = rig;
    const cookie = [...rig.alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const sse = await SseClient.open(`${cloud.url}/api/v1/streams/groups/${rig.groupId}/console`, { cookie });
    const states = () => sse.of('group_state').map((e) => e.data);
    await rig.resetSink(simB);
    await rig.stopB();
    const degraded = await waitFor(
      'DEGRADED',
      async () => {
        const g = await rig.group();
        return g.mode === 'degraded' ? g : undefined;
      },
      15_000,
    );
    expect(degraded.b.online).toBe(false);
    expect((await rig.traffic(simA, { rate: 2000, ids: ['0x200', '0x201'], count: 60_000 })).status).toBe(
      200,
    );
    await rig.trafficDone(simA, 45_000);
    const buffered = (await rig.group()).buffer as Json;
    expect(buffered.a_to_b).toBe(60_000);
    expect((await rig.sink(simB)).frames).toBe(0);
    const back = Date.now();
    await rig.restartB();
    const done = await rig.settledSink(simB, 60_000, 60_000);
    expect(done).toMatchObject({ frames: 60_000, gaps: 0, missing: 0, duplicates: 0, out_of_order: 0 });
    console.log(
      `60,000 buffered frames replayed ${((Date.now() - back) / 1000).toFixed(1)} s after B restarted`,
    );
    await waitFor(
      'ACTIVE again',
      async () => ((await rig.group()).mode === 'active' ? true : undefined),
      15_000,
    );
    // The console heard it all: degraded with B offline, the backlog while it drained, whole again.
    const seen = states();
    expect(
      seen.some((g) => g.mode === 'degraded' && g.offline_side === 'b' && g.offline_sides?.join() === 'b'),
    ).toBe(true);
    expect(seen.some((g) => g.buffered_frames_a_to_b > 0)).toBe(true);
    await sse.waitFor(() => states().some((g) => g.mode === 'active'), 10_000);
    sse.close();
    await waitFor('an empty buffer', async () =>
      ((await rig.group()).buffer as Json).a_to_b === 0 ? true : undefined,
    );
  }, 180_000);
});
