import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../cloud/test/backends';
import { Client } from '../../cloud/test/harness';
import { serve } from '../../cloud/test/process';
import { freePort, run, tempDirs, waitFor } from './cli-process';

// Service mode end to end in a scratch HOME: the built canopy-node installs a systemd user unit; systemd is
// installed but not running on these machines, so a stand-in `systemctl` (test/fake-systemd) records every
// call and runs the unit under a supervisor that applies the unit's own Restart=/RestartSec=/StartLimit*.
const FAKE_BIN = fileURLToPath(new URL('./fake-systemd', import.meta.url));
const UNIT = 'canopy-node.service';

type Health = { status: string; connection: string };

/** Every file under `dir`, relative, except the node's own home (config, credential, logs stay). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      const rel = path.relative(dir, full);
      if (rel === '.canopy-node') continue;
      if (entry.isDirectory()) walk(full);
      else out.push(rel);
    }
  };
  walk(dir);
  return out.sort();
}

describe.each(await backends())('canopy-node as a systemd user service, cloud on $name', (backend) => {
  const dirs = tempDirs();
  const state = path.join(dirs.root, 'systemd-state');
  const home = dirs.userHome;
  const unitFile = path.join(home, '.config', 'systemd', 'user', UNIT);
  let cloud: Awaited<ReturnType<typeof serve>>;
  let cleanupBackend: () => Promise<void> = async () => {};
  let owner: Client;
  let agentId: string;
  let healthPort: number;
  let filesBefore: string[];
  // No CANOPY_NODE_HOME: the default ~/.canopy-node of the scratch HOME, as a user would have it.
  const env = {
    HOME: home,
    PATH: `${FAKE_BIN}:${process.env.PATH}`,
    FAKE_SYSTEMD_STATE: state,
    XDG_CONFIG_HOME: path.join(home, '.config'),
  };
  const calls = () =>
    fs.existsSync(path.join(state, 'calls.log'))
      ? fs
          .readFileSync(path.join(state, 'calls.log'), 'utf8')
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as string[]).join(' '))
      : [];
  const health = async (): Promise<Health | undefined> => {
    try {
      return (await (await fetch(`http://127.0.0.1:${healthPort}/health`)).json()) as Health;
    } catch {
      return undefined;
    }
  };
  const daemonPid = () => Number(fs.readFileSync(path.join(state, `${UNIT}.pid`), 'utf8'));

  beforeAll(async () => {
    fs.mkdirSync(home, { recursive: true });
    const cloudEnv: Record<string, string> = { CANOPY_DATA_DIR: path.join(dirs.root, 'cloud') };
    if (backend.name === 'postgres+redis') {
      const opened = await backend.open();
      cloudEnv.DATABASE_URL = opened.databaseUrl ?? '';
      cloudEnv.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
      cloudEnv.REDIS_KEY_PREFIX = `canopy-svc-${randomBytes(4).toString('hex')}:`;
      cleanupBackend = opened.cleanup;
    }
    cloud = await serve(cloudEnv);
    owner = new Client(cloud.url);
    await owner.signup('owner@example.com', 'correct horse battery');
    const key = (await owner.post('/api/v1/agents/enrollment-keys', {})).body.secret as string;
    const setup = await run(['setup', '-', '--cloud', cloud.url], env, `${key}\n`);
    expect(setup.code, setup.stderr).toBe(0);
    healthPort = await freePort();
    const configFile = path.join(home, '.canopy-node', 'config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    config.healthPort = healthPort;
    // The service manager passes no CANOPY_DISCOVERY: the config turns discovery off (no broadcast may leave).
    config.discovery = { enabled: false };
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
    agentId = config.nodeId;
    filesBefore = tree(home);
  });

  afterAll(async () => {
    await run(['uninstall'], env);
    await cloud?.stop();
    await cleanupBackend();
    dirs.cleanup();
  });

  it('refuses to install without a systemd user session, and says what to do', async () => {
    const refused = await run(['install'], { ...env, FAKE_SYSTEMD_NO_BUS: '1' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("systemd's user session is not reachable");
    expect(refused.stderr).toContain(`sudo loginctl enable-linger ${os.userInfo().username}`);
    expect(refused.stderr).toContain('sudo canopy-node install --system');
    expect(fs.existsSync(unitFile)).toBe(false);
  });

  it('installs, enables and starts the unit; the daemon connects and the cloud shows it always on', async () => {
    const installed = await run(['install'], env);
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toContain(`Wrote ${unitFile}`);
    expect(installed.stdout).toContain(`sudo loginctl enable-linger ${os.userInfo().username}`);
    expect(installed.stdout).toContain('canopy-node is running and connected to the cloud.');
    expect(calls()).toEqual(
      expect.arrayContaining([
        'systemctl --user show-environment',
        'systemctl --user daemon-reload',
        `systemctl --user enable --now ${UNIT}`,
        `loginctl show-user ${os.userInfo().username} --property=Linger --value`,
      ]),
    );
    // The unit this install wrote (real paths of this checkout) passes systemd's own check.
    const verified = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
    expect(`${verified.status} ${verified.stderr.trim()}`).toBe('0 ');
    const unit = fs.readFileSync(unitFile, 'utf8');
    expect(unit).not.toMatch(/cn[tps]_/);
    expect(unit).not.toContain('CANOPY_NODE_HOME'); // the default home needs no variable

    const status = await run(['status'], env);
    expect(status.stdout).toMatch(/state: +connected since/);
    expect(status.stdout).toContain(
      `service:    installed as a systemd user service: active, enabled (${unitFile})`,
    );

    await waitFor('the cloud to show the node always on', async () => {
      const agent = (await owner.get(`/api/v1/agents/${agentId}`)).body.agent;
      return agent.online && agent.service === 'systemd' ? agent : undefined;
    });
  });

  it('comes back CONNECTED with health 200 within 10 s of a kill -9, under the unit restart rules', async () => {
    const before = daemonPid();
    const killedAt = Date.now();
    process.kill(before, 'SIGKILL');
    await waitFor('the daemon to be gone', async () => ((await health()) ? undefined : true), 5000);
    const back = await waitFor(
      'the restarted daemon to connect',
      async () => {
        const res = await fetch(`http://127.0.0.1:${healthPort}/health`).catch(() => null);
        if (res?.status !== 200) return undefined;
        return ((await res.json()) as Health).connection === 'connected' ? Date.now() : undefined;
      },
      15_000,
    );
    expect(daemonPid()).not.toBe(before);
    const ms = back - killedAt;
    console.log(`back CONNECTED with /health 200 ${ms} ms after kill -9 (RestartSec=5)`);
    expect(ms).toBeLessThanOrEqual(10_000);
  });

  it('installs again harmlessly, and uninstall removes every file it made', async () => {
    const pid = daemonPid();
    const again = await run(['install'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('is already up to date');
    expect(daemonPid()).toBe(pid); // not restarted: nothing changed

    // Node.js moved (an upgrade elsewhere): status says so, and install rewrites the unit and restarts it.
    fs.writeFileSync(
      unitFile,
      fs.readFileSync(unitFile, 'utf8').replace(/^ExecStart=\S+/m, 'ExecStart=/opt/old-node/bin/node'),
    );
    const stale = await run(['status'], env);
    expect(stale.stdout).toContain('run `canopy-node install` to update it');
    const updated = await run(['install'], env);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toContain('Restarted it with the new unit');
    expect(calls()).toContain(`systemctl --user restart ${UNIT}`);
    expect((await run(['status'], env)).stdout).not.toContain('to update it');
    await waitFor('the restarted daemon to connect', async () =>
      (await health())?.connection === 'connected' ? true : undefined,
    );

    const removed = await run(['uninstall'], env);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`Removed ${unitFile}`);
    expect(calls()).toContain(`systemctl --user disable --now ${UNIT}`);
    await waitFor('the daemon to stop', async () => ((await health()) ? undefined : true), 10_000);
    expect(tree(home)).toEqual(filesBefore);
    expect(fs.existsSync(path.join(home, '.canopy-node', 'config.json'))).toBe(true);

    const twice = await run(['uninstall'], env);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toContain('nothing to remove');
    const status = await run(['status'], env);
    expect(status.stdout).toMatch(/service: +not installed/);
  });
});
