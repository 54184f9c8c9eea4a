import { randomBytes, randomInt } from 'node:crypto';
import { expect } from 'vitest';
import { type SimProcess, startSim } from '../../../tools/dongle-sim/test/harness';
import { Client, type Json } from '../../cloud/test/harness';
import { start, tempDirs, waitFor } from './cli-process';
import { discoveryEnv, pinOf, startLoopbackNode, waitConnected } from './dongle-rig';

// The relay tests' chain: two real canopy-nodes, each with its own canopy-dongle-sim on its own discovery
// port on `lo`, both dongles paired by one user and grouped (A = node A's, B = node B's), the group active.

export type Sink = {
  frames: number;
  gaps: number;
  missing: number;
  duplicates: number;
  out_of_order: number;
};

export type RelayRig = Awaited<ReturnType<typeof startRelayRig>>;

/** `cloudA`/`cloudB`: the cloud URL each node uses (two instances behind one database and Redis, or one). */
export async function startRelayRig(options: { cloudA: string; cloudB?: string; email?: string }) {
  const dirsA = tempDirs();
  const dirsB = tempDirs();
  const portA = randomInt(40_000, 45_000);
  const portB = randomInt(45_000, 50_000);
  const alice = new Client(options.cloudA);
  await alice.signup(options.email ?? 'alice@example.com');
  const nodeA = await startLoopbackNode({
    cloudUrl: options.cloudA,
    owner: alice,
    env: discoveryEnv(dirsA, portA),
    dirs: dirsA,
    name: 'side-a',
  });
  const first = await startLoopbackNode({
    cloudUrl: options.cloudB ?? options.cloudA,
    owner: alice,
    env: discoveryEnv(dirsB, portB),
    dirs: dirsB,
    name: 'side-b',
  });
  let nodeB: ReturnType<typeof start> | undefined = first.node;
  const seed = randomBytes(4).toString('hex');
  const simArgs = (p: number, s: string) => [
    '--discovery-port',
    String(p),
    '--remp-port-base',
    '0',
    '--seed',
    s,
  ];
  const simA = await startSim(simArgs(portA, `${seed}a`));
  const simB = await startSim(simArgs(portB, `${seed}b`));
  const device = (sim: SimProcess) => sim.dongles[0]?.deviceId as string;
  await alice.post('/api/v1/dongles/scan');
  const list = await waitFor(
    'both dongles',
    async () => {
      const all = (await alice.get('/api/v1/dongles')).body.dongles as Json[];
      return all.filter((d) => d.online).length === 2 ? all : undefined;
    },
    15_000,
  );
  const idOf = (sim: SimProcess) => list.find((d) => d.device_id === device(sim))?.id as string;
  for (const sim of [simA, simB]) {
    const started = await alice.post(`/api/v1/dongles/${idOf(sim)}/pairing-mode`, { action: 'start' });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const paired = await alice.post(`/api/v1/dongles/${idOf(sim)}/pairing-submit`, {
      pairing_session_id: started.body.pairing_session_id,
      pin: await pinOf(sim, device(sim)),
    });
    expect(paired.status, JSON.stringify(paired.body)).toBe(200);
  }
  const created = await alice.post('/api/v1/groups', {
    name: 'workshop',
    dongle_a_id: idOf(simA),
    dongle_b_id: idOf(simB),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const groupId = created.body.group.id as string;
  expect((await alice.post(`/api/v1/groups/${groupId}/activate`)).status).toBe(200);
  const group = async () => (await alice.get(`/api/v1/groups/${groupId}`)).body.group as Json;
  await waitFor(
    'the group to be bridged',
    async () => ((await group()).mode === 'active' ? true : undefined),
    20_000,
  );

  const sink = async (sim: SimProcess) =>
    (await sim.api('GET', `/dongles/${device(sim)}/sink`)).body as unknown as Sink;
  return {
    alice,
    groupId,
    simA,
    simB,
    dongleA: idOf(simA),
    dongleB: idOf(simB),
    device,
    group,
    sink,
    resetSink: (sim: SimProcess) => sim.api('DELETE', `/dongles/${device(sim)}/sink`),
    traffic: (sim: SimProcess, body: Json) => sim.api('POST', `/dongles/${device(sim)}/traffic`, body),
    /** Waits until the simulator's traffic generator has sent everything. */
    trafficDone: (sim: SimProcess, ms: number) =>
      waitFor(
        'the traffic generator to finish',
        async () =>
          (await sim.api('GET', `/dongles/${device(sim)}/traffic`)).body.running ? undefined : true,
        ms,
      ),
    /** The sink once it holds `want` frames, or once it stopped growing for 5 s (the test then says what it has). */
    async settledSink(sim: SimProcess, want: number, ms: number): Promise<Sink> {
      const deadline = Date.now() + ms;
      let last = await sink(sim);
      let still = Date.now();
      while (last.frames < want && Date.now() < deadline && Date.now() - still < 5000) {
        await new Promise((r) => setTimeout(r, 250));
        const now = await sink(sim);
        if (now.frames !== last.frames) still = Date.now();
        last = now;
      }
      return last;
    },
    /** Both nodes' relay counters (from /health), to say where frames went when a test fails. */
    async relayHealth(): Promise<{ a: unknown; b: unknown }> {
      const read = async (port: number) =>
        fetch(`http://127.0.0.1:${port}/health`)
          .then(async (res) => ((await res.json()) as { relay?: unknown }).relay ?? null)
          .catch((err) => `unreachable: ${err}`);
      return { a: await read(nodeA.healthPort), b: await read(first.healthPort) };
    },
    async stopB(): Promise<void> {
      expect(await nodeB?.stop('SIGTERM')).toBe(0);
      nodeB = undefined;
    },
    /** Node B's daemon again, with the identity it enrolled with. */
    async restartB(): Promise<void> {
      nodeB = start(['daemon'], discoveryEnv(dirsB, portB));
      await waitConnected(first.healthPort);
    },
    async stop(): Promise<void> {
      for (const sim of [simA, simB]) await sim.stop();
      await nodeA.node.stop('SIGTERM');
      await nodeB?.stop('SIGTERM');
      dirsA.cleanup();
      dirsB.cleanup();
    },
  };
}
