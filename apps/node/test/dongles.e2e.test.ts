import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimProcess as RunningSim, startSim } from '../../../tools/dongle-sim/test/harness';
import { backends } from '../../cloud/test/backends';
import { Client, type Json } from '../../cloud/test/harness';
import { serve } from '../../cloud/test/process';
import { freePort, run, start, tempDirs, waitFor } from './cli-process';
import { discoveryEnv, startLoopbackNode } from './dongle-rig';

// canopy-dongle-sim (real process, real UDP) → canopy-node (built, a real process) → canopy-cloud (built).
// Discovery runs on loopback (`lo`, broadcast 127.255.255.255) and on a veth into a network namespace this test
// creates: never on the machine's real interface, whose broadcast address leads off the machine.

type Health = {
  connection: string;
  dongles?: { boundPort: number | null; malformed: number; online: number };
};

/** Whether this process may create network namespaces (root with CAP_NET_ADMIN and `ip`). */
function canUseNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    const probe = `cnpprobe${randomBytes(3).toString('hex')}`;
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.each(await backends())('dongles on the LAN, cloud on $name', (backend) => {
  const dirs = tempDirs();
  const discoveryPort = randomInt(40_000, 50_000);
  let cloud: Awaited<ReturnType<typeof serve>>;
  let cleanupBackend: () => Promise<void> = async () => {};
  let owner: Client;
  let agentId: string;
  let healthPort: number;
  let node: ReturnType<typeof start> | undefined;
  let sim: RunningSim | undefined;
  const nodeEnv = (interfaces: string) => ({
    ...discoveryEnv(dirs, discoveryPort, interfaces),
    BRIDGE_AGENT_DEBUG_DISCOVERY: '1',
  });

  const health = async (): Promise<Health | undefined> => {
    try {
      return (await (await fetch(`http://127.0.0.1:${healthPort}/health`)).json()) as Health;
    } catch {
      return undefined;
    }
  };
  /** The daemon logs to files only: everything it wrote so far. */
  const nodeLog = () => {
    const dir = path.join(dirs.home, 'logs');
    return fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
          .join('\n')
      : '';
  };
  const dongles = async (): Promise<Json[]> => (await owner.get('/api/v1/dongles')).body.dongles;
  /** What the Dongles page does while open: ask for fast scans. */
  const watch = async () => expect((await owner.post('/api/v1/dongles/scan')).status).toBe(200);
  const startNode = async (interfaces: string) => {
    node = start(['daemon'], nodeEnv(interfaces));
    await waitFor(
      'the node to connect',
      async () => (await health())?.connection === 'connected' || undefined,
      20_000,
    );
  };

  beforeAll(async () => {
    const cloudEnv: Record<string, string> = {
      CANOPY_DATA_DIR: path.join(dirs.root, 'cloud'),
      PORT: String(await freePort()),
      LOG_LEVEL: 'info',
    };
    if (backend.name === 'postgres+redis') {
      const opened = await backend.open();
      cloudEnv.DATABASE_URL = opened.databaseUrl ?? '';
      cloudEnv.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
      cloudEnv.REDIS_KEY_PREFIX = `canopy-dongles-${randomBytes(4).toString('hex')}:`;
      cleanupBackend = opened.cleanup;
    }
    cloud = await serve(cloudEnv);
    owner = new Client(cloud.url);
    await owner.signup('owner@example.com');
    ({ node, healthPort, agentId } = await startLoopbackNode({
      cloudUrl: cloud.url,
      owner,
      env: nodeEnv('lo'),
      dirs,
    }));
  });

  afterAll(async () => {
    await sim?.stop();
    await node?.stop('SIGTERM');
    await cloud?.stop();
    await cleanupBackend();
    dirs.cleanup();
  });

  it('shows 3 simulated dongles on loopback, online, with lan_ip, port, firmware and the node that sees them', async () => {
    await watch();
    sim = await startSim([
      '--count',
      '3',
      '--discovery-port',
      String(discoveryPort),
      '--remp-port-base',
      '0',
      '--seed',
      randomBytes(4).toString('hex'),
    ]);
    expect(sim.dongles).toHaveLength(3);
    const started = Date.now();
    const list = await waitFor(
      'the 3 dongles on the cloud',
      async () => {
        const all = await dongles();
        return all.filter((d) => d.online).length === 3 ? all : undefined;
      },
      15_000,
    );
    console.log(`3 dongles listed by the cloud ${Date.now() - started} ms after the simulator started`);
    for (const simulated of sim.dongles) {
      const dongle = list.find((d) => d.device_id === simulated.deviceId);
      expect(dongle).toMatchObject({
        owned: false,
        ownership_state: 'UNCLAIMED',
        fw_build: 'sim-2026.11',
        online: true,
        lan_ip: '127.0.0.1',
        pairing_state: 'normal',
      });
      expect(dongle.seen_by).toEqual([
        expect.objectContaining({
          agent_id: agentId,
          interface: 'lo',
          udp_port: simulated.port,
          online: true,
        }),
      ]);
    }
    expect(nodeLog()).toContain('discovering dongles on lo');
    const status = await run(['status'], nodeEnv('lo'));
    expect(status.stdout).toMatch(/dongles:\s+3 online of 3 seen, looking on lo \(127\.0\.0\.1\)/);
  });

  it('shows pairing mode when a dongle enters it', async () => {
    await watch();
    const target = sim?.dongles[0]?.deviceId as string;
    const pressed = await fetch(`${sim?.control}/dongles/${target}/pairing-mode`, { method: 'POST' });
    expect(pressed.status).toBe(200);
    await waitFor(
      'pairing mode on the cloud',
      async () =>
        (await dongles()).find((d) => d.device_id === target)?.pairing_state === 'pairing' ? true : undefined,
      10_000,
    );
  });

  it('counts and logs hostile datagrams and keeps running', async () => {
    const before = (await health())?.dongles;
    expect(before?.boundPort).toBeGreaterThan(0);
    const socket = dgram.createSocket('udp4');
    const hostile = [
      randomBytes(0),
      randomBytes(3),
      Buffer.from('OBD2garbage-garbage'),
      Buffer.concat([Buffer.from('OBD2\x01\x02\x00\x12\xff\xff'), randomBytes(8)]), // payload_len past the end
      Buffer.from('REMP'),
    ];
    for (let i = 0; i < 200; i++) hostile.push(randomBytes(1 + (i % 300)));
    for (const datagram of hostile) {
      await new Promise<void>((resolve) =>
        socket.send(datagram, before?.boundPort as number, '127.0.0.1', () => resolve()),
      );
    }
    socket.close();
    const after = await waitFor(
      'the hostile datagrams to be counted',
      async () => {
        const h = await health();
        return (h?.dongles?.malformed ?? 0) >= (before?.malformed ?? 0) + hostile.length ? h : undefined;
      },
      10_000,
    );
    expect(after.connection).toBe('connected');
    expect(after.dongles?.online).toBe(3);
    expect(nodeLog()).toContain('ignored a datagram that is not a valid dongle message');
  });

  it('marks dongles offline after 3 missed scans once the simulator stops', async () => {
    await sim?.stop();
    sim = undefined;
    await watch();
    await waitFor(
      'the dongles to go offline',
      async () => {
        await watch();
        const all = await dongles();
        return all.length === 3 && all.every((d) => !d.online) ? true : undefined;
      },
      20_000,
    );
  });

  const namespaces = canUseNamespaces();
  it.skipIf(!namespaces)(
    'discovers 3 dongles by real broadcast on a veth into a network namespace',
    async () => {
      await node?.stop('SIGTERM');
      const tag = randomBytes(3).toString('hex');
      const ns = `cnp${tag}`;
      const hostIf = `cnph${tag}`;
      const peerIf = `cnpd${tag}`;
      const subnet = `10.254.${randomInt(1, 250)}`;
      const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
      try {
        ip('netns', 'add', ns);
        ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf);
        ip('link', 'set', peerIf, 'netns', ns);
        ip('addr', 'add', `${subnet}.1/24`, 'dev', hostIf);
        ip('link', 'set', hostIf, 'up');
        ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${subnet}.2/24`, 'dev', peerIf);
        ip('netns', 'exec', ns, 'ip', 'link', 'set', peerIf, 'up');
        ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
        sim = await startSim(
          [
            '--count',
            '3',
            '--host',
            `${subnet}.2`,
            '--discovery-port',
            String(discoveryPort),
            '--remp-port-base',
            '52000',
            '--seed',
            `ns-${tag}`,
          ],
          ['ip', 'netns', 'exec', ns],
        );
        expect(sim.output.join('\n')).toContain(`discovery: ${subnet}.255:${discoveryPort}`);
        await startNode(hostIf);
        await watch();
        const list = await waitFor(
          'the namespace dongles on the cloud',
          async () => {
            const all = (await dongles()).filter((d) => d.online && d.lan_ip === `${subnet}.2`);
            return all.length === 3 ? all : undefined;
          },
          15_000,
        );
        for (const dongle of list) {
          expect(dongle.seen_by[0]).toMatchObject({ interface: hostIf, lan_ip: `${subnet}.2` });
          expect([52000, 52001, 52002]).toContain(dongle.seen_by[0].udp_port);
        }
        expect(nodeLog()).toContain(`discovering dongles on ${hostIf}`);
      } finally {
        await sim?.stop();
        sim = undefined;
        try {
          ip('netns', 'del', ns); // takes the veth pair with it
        } catch {
          // already gone
        }
        try {
          ip('link', 'del', hostIf);
        } catch {
          // removed with the namespace
        }
      }
    },
  );
});
