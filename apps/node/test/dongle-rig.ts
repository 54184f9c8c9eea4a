import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { type SimProcess, startSim } from '../../../tools/dongle-sim/test/harness';
import type { Client, Json } from '../../cloud/test/harness';
import { freePort, run, start, type tempDirs, waitFor } from './cli-process';

// The chain the dongle tests share: a built canopy-node that looks for dongles on `lo` only (a broadcast on
// the machine's real interface would leave the machine), and canopy-dongle-sim with dongles it hears.

type Dirs = ReturnType<typeof tempDirs>;

/** The node's environment: its own home, discovery on `interfaces` (default `lo`) and the test's port. */
export function discoveryEnv(dirs: Dirs, discoveryPort: number, interfaces = 'lo'): Record<string, string> {
  return {
    CANOPY_NODE_HOME: dirs.home,
    HOME: dirs.userHome,
    CANOPY_DISCOVERY: 'on',
    CANOPY_DISCOVERY_INTERFACES: interfaces,
    CANOPY_DISCOVERY_PORT: String(discoveryPort),
  };
}

/** Answers once /health says 200 (connected or polling). */
export async function waitConnected(healthPort: number, ms = 20_000): Promise<void> {
  await waitFor(
    'the node to connect',
    async () =>
      (await fetch(`http://127.0.0.1:${healthPort}/health`).catch(() => undefined))?.status === 200 ||
      undefined,
    ms,
  );
}

/** Sets the node up with an enrollment key of `owner`, starts its daemon and waits until it is connected. */
export async function startLoopbackNode(options: {
  cloudUrl: string;
  owner: Client;
  env: Record<string, string>;
  dirs: Dirs;
  name?: string;
}) {
  const { owner, env, dirs } = options;
  const key = (await owner.post('/api/v1/agents/enrollment-keys', {})).body.secret as string;
  const setup = await run(
    ['setup', '-', '--cloud', options.cloudUrl, '--name', options.name ?? 'garage-pc'],
    env,
    `${key}\n`,
  );
  expect(setup.code, setup.stderr).toBe(0);
  const healthPort = await freePort();
  const configFile = path.join(dirs.home, 'config.json');
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  fs.writeFileSync(configFile, JSON.stringify({ ...config, healthPort }, null, 2), { mode: 0o600 });
  const node = start(['daemon'], env);
  await waitConnected(healthPort);
  return { node, healthPort, agentId: config.nodeId as string };
}

/**
 * Starts `count` simulated dongles on the discovery port and waits until `owner`'s dongle list shows all of
 * them online. Returns the simulator and device id → the cloud's dongle id.
 */
export async function startDongles(options: { owner: Client; discoveryPort: number; count: number }) {
  const { owner, count } = options;
  const sim = await startSim([
    '--count',
    String(count),
    '--discovery-port',
    String(options.discoveryPort),
    '--remp-port-base',
    '0',
    '--seed',
    randomBytes(4).toString('hex'),
  ]);
  await owner.post('/api/v1/dongles/scan');
  const list = await waitFor(
    `the ${count} dongles`,
    async () => {
      const all = (await owner.get('/api/v1/dongles')).body.dongles as Json[];
      return all.filter((d) => d.online).length === count ? all : undefined;
    },
    15_000,
  );
  const ids = new Map<string, string>(list.map((d) => [d.device_id as string, d.id as string]));
  return { sim, ids };
}

/** The PIN dongle `deviceId` shows, from the simulator's control interface (as a user reads the dongle). */
export async function pinOf(sim: SimProcess, deviceId: string): Promise<string> {
  return ((await sim.api('GET', `/dongles/${deviceId}`)).body as { pairing: { pin: string } }).pairing.pin;
}

/** A PIN that is surely not `pin`. */
export const wrongPin = (pin: string) => String((Number(pin) + 1) % 1_000_000).padStart(6, '0');
