import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeToken } from '../src/credential';
import {
  AGENT_ID,
  AGENT_TOKEN,
  fakeCloud,
  freePort,
  GOOD_KEY,
  run,
  start,
  tempDirs,
  waitFor,
} from './cli-process';

/*
 * spec 000, "survives reboots": a systemd user unit started at boot through lingering runs before the user
 * logs in, when the keyring holding the agent token is still locked. Here the real daemon meets the real
 * Secret Service: gnome-keyring on a private D-Bus session bus in a scratch HOME. "Reboot" is stopping that
 * bus (the keyring goes with it) and starting it again: the keyring D-Bus activates locked, as at boot, and
 * "logging in" is unlocking it with the password, as PAM does at login.
 */
const haveKeyring = ['dbus-daemon', 'gnome-keyring-daemon'].every(
  (bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0,
);
if (!haveKeyring) console.info('keychain boot tests skipped: dbus-daemon or gnome-keyring-daemon is missing');

const LOGIN_PASSWORD = 'correct horse battery';

type Health = { status: string; connection: string; reason: string | null; lastError: string | null };

async function health(port: number): Promise<{ code: number; body: Health } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    return { code: res.status, body: (await res.json()) as Health };
  } catch {
    return undefined;
  }
}

/** The daemon's JSON log lines, oldest first. */
function logLines(home: string): Array<{ level: number; msg: string; [key: string]: unknown }> {
  const dir = path.join(home, 'logs');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .sort()
    .flatMap((file) => fs.readFileSync(path.join(dir, file), 'utf8').split('\n'))
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

const secrets = [AGENT_TOKEN, GOOD_KEY, 'cns_session_token_never_printed', LOGIN_PASSWORD];

describe.runIf(haveKeyring)('a node whose token is in a locked OS keychain, started at boot', () => {
  const dirs = tempDirs();
  const bus = path.join(dirs.root, 'bus');
  const runtime = path.join(dirs.root, 'run');
  const session = {
    HOME: dirs.userHome,
    XDG_DATA_HOME: path.join(dirs.userHome, '.local', 'share'),
    XDG_RUNTIME_DIR: runtime,
    DBUS_SESSION_BUS_ADDRESS: `unix:path=${bus}`,
  };
  const env = { ...session, CANOPY_NODE_HOME: dirs.home };
  let cloud: Awaited<ReturnType<typeof fakeCloud>>;
  let healthPort: number;
  let busProcess: ChildProcess | null = null;

  /** The user's session bus; the keyring on it is D-Bus activated, locked, when first asked. */
  async function startBus() {
    busProcess = spawn(
      'dbus-daemon',
      ['--session', '--nofork', `--address=${session.DBUS_SESSION_BUS_ADDRESS}`],
      { env: { ...process.env, ...session }, stdio: 'ignore' },
    );
    await waitFor('the session bus', () => fs.existsSync(bus) || undefined, 5000);
  }
  /** Gone with its bus: the keyring daemon exits when the bus does. */
  async function stopBus() {
    const stopping = busProcess;
    busProcess = null;
    if (!stopping || stopping.exitCode !== null) return;
    const exited = new Promise((resolve) => stopping.once('exit', resolve));
    stopping.kill('SIGTERM');
    await exited;
    fs.rmSync(bus, { force: true });
  }
  /** What PAM does at login: a keyring daemon unlocked with the login password takes over the bus name. */
  function logIn() {
    const unlocked = spawnSync('gnome-keyring-daemon', ['--replace', '--unlock', '--components=secrets'], {
      env: { ...process.env, ...session },
      input: LOGIN_PASSWORD,
      encoding: 'utf8',
    });
    expect(unlocked.status, unlocked.stderr).toBe(0);
  }

  beforeAll(async () => {
    fs.mkdirSync(runtime, { recursive: true, mode: 0o700 });
    cloud = await fakeCloud();
    healthPort = await freePort();
    await startBus();
    logIn();
    const setup = await run(
      ['setup', '-', '--cloud', cloud.url],
      { ...env, CANOPY_NODE_CREDENTIAL_STORE: 'keychain' },
      `${GOOD_KEY}\n`,
    );
    expect(setup.code, setup.stderr).toBe(0);
    expect(setup.stdout).toContain('credential: kept in the OS keychain');
    const configFile = path.join(dirs.home, 'config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    expect(config.credentialStore).toBe('keychain');
    expect(fs.existsSync(path.join(dirs.home, 'credential.enc'))).toBe(false);
    // Debug level shows every retry.
    fs.writeFileSync(configFile, JSON.stringify({ ...config, healthPort, logLevel: 'debug' }), {
      mode: 0o600,
    });
    await stopBus(); // the machine reboots
  });

  afterAll(async () => {
    await stopBus();
    await cloud?.close();
    dirs.cleanup();
  });

  it('waits while the keyring is locked, says why on /health and in the log, and starts once the user logs in', async () => {
    await startBus();
    const daemon = start(['daemon'], { ...env, CANOPY_NODE_CREDENTIAL_STORE: 'auto' });
    try {
      const waiting = await waitFor('/health to say the node waits for the keychain', async () => {
        const answer = await health(healthPort);
        return answer?.body.connection === 'waiting' ? answer : undefined;
      });
      expect(waiting.code).toBe(503);
      expect(waiting.body).toMatchObject({ status: 'unhealthy', connection: 'waiting' });
      expect(waiting.body.reason).toContain('waiting for the OS keychain');
      expect(waiting.body.lastError).toBeTruthy();

      const warning = logLines(dirs.home).find((line) => line.level === 40);
      expect(warning?.msg).toMatch(/^the OS keychain, which holds the agent token, cannot be reached \(.+\)/);
      expect(warning?.msg).toContain('once you log in to this machine or unlock the keychain');
      expect(warning?.msg).toContain('CANOPY_NODE_CREDENTIAL_STORE=file canopy-node setup <KEY>');

      // Past the point where the old daemon had exited 1 for systemd to give up on: it tries again instead.
      await waitFor(
        'a retry',
        () =>
          logLines(dirs.home).some((line) => /still cannot be reached; next try in 4 s/.test(line.msg)) ||
          undefined,
      );
      expect(daemon.child.exitCode).toBeNull();
      expect(cloud.requests.some((r) => r.url === '/ws/agent')).toBe(false);
      // `status` does not call a node waiting for its keychain "not set up": it shows the wait and why.
      const meanwhile = await run(['status'], env);
      expect(meanwhile.stdout).toMatch(/state: +waiting/);
      expect(meanwhile.stdout).toMatch(/reason: +waiting for the OS keychain/);

      logIn();
      await waitFor(
        'the daemon to connect once the keyring is unlocked',
        async () => {
          const answer = await health(healthPort);
          return answer?.code === 200 && answer.body.connection === 'connected' ? true : undefined;
        },
        20_000,
      );
      const ws = cloud.requests.find((r) => r.url === '/ws/agent');
      expect(ws?.headers.authorization).toBe(`Bearer ${AGENT_TOKEN}`);
      const lines = logLines(dirs.home);
      expect(lines.filter((line) => line.level === 40)).toHaveLength(1); // one warning, not one per retry
      expect(lines.some((line) => line.level === 30 && /the OS keychain answers/.test(line.msg))).toBe(true);

      const status = await run(['status'], env);
      expect(status.stdout).toMatch(/state: +connected since/);
      expect(status.stdout).toContain(`node:       ${AGENT_ID}`);

      expect(await daemon.stop('SIGTERM')).toBe(0);
    } finally {
      if (daemon.child.exitCode === null) {
        daemon.child.kill('SIGKILL');
        await daemon.exited;
      }
      await stopBus();
    }
    const raw = fs
      .readdirSync(path.join(dirs.home, 'logs'))
      .map((f) => fs.readFileSync(path.join(dirs.home, 'logs', f), 'utf8'));
    for (const secret of secrets) expect(raw.join('') + daemon.output()).not.toContain(secret);
  }, 60_000);

  it('with no session bus at all it waits too, and SIGTERM ends the wait at once with exit 0', async () => {
    // In a terminal, connect does not wait: it says what is wrong and how to get out of it.
    const connect = await run(['connect'], env);
    expect(connect.code).toBe(1);
    expect(connect.stderr).toMatch(/kept in the OS keychain, which cannot be reached now \(.+\): log in/);
    const daemon = start(['daemon'], env);
    try {
      await waitFor('/health to say the node waits for the keychain', async () =>
        (await health(healthPort))?.body.connection === 'waiting' ? true : undefined,
      );
      expect(fs.existsSync(path.join(dirs.home, 'canopy-node.pid'))).toBe(true);
      const stoppingAt = Date.now();
      expect(await daemon.stop('SIGTERM')).toBe(0);
      expect(Date.now() - stoppingAt).toBeLessThan(1500);
    } finally {
      if (daemon.child.exitCode === null) {
        daemon.child.kill('SIGKILL');
        await daemon.exited;
      }
    }
    expect(fs.existsSync(path.join(dirs.home, 'canopy-node.pid'))).toBe(false);
    expect(await health(healthPort)).toBeUndefined();
    const messages = logLines(dirs.home).map((line) => line.msg);
    expect(messages.at(-2)).toBe('shutting down while waiting for the OS keychain');
    expect(messages.at(-1)).toBe('canopy-node stopped');
  });

  it('the way out the warning names, setup with the encrypted file, lets the waiting daemon start', async () => {
    const daemon = start(['daemon'], env);
    try {
      await waitFor('/health to say the node waits for the keychain', async () =>
        (await health(healthPort))?.body.connection === 'waiting' ? true : undefined,
      );
      const setup = await run(
        ['setup', '-'],
        { ...env, CANOPY_NODE_CREDENTIAL_STORE: 'file' },
        `${GOOD_KEY}\n`,
      );
      expect(setup.code, setup.stderr).toBe(0);
      expect(setup.stdout).toContain('credential: kept in an encrypted file');
      await waitFor('the daemon to connect with the token from the file', async () =>
        (await health(healthPort))?.body.connection === 'connected' ? true : undefined,
      );
      expect(await daemon.stop('SIGTERM')).toBe(0);
    } finally {
      if (daemon.child.exitCode === null) {
        daemon.child.kill('SIGKILL');
        await daemon.exited;
      }
    }
  });

  it('when setup made the machine another node meanwhile, the waiting daemon exits 1 to start again', async () => {
    const configFile = path.join(dirs.home, 'config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    fs.writeFileSync(configFile, JSON.stringify({ ...config, credentialStore: 'keychain' }), { mode: 0o600 });
    const daemon = start(['daemon'], env);
    try {
      await waitFor('/health to say the node waits for the keychain', async () =>
        (await health(healthPort))?.body.connection === 'waiting' ? true : undefined,
      );
      // What `setup` with another cloud or a removed node leaves: another node id, the token in the file.
      const otherNode = '0c7d6e5f-4a3b-4c2d-8e1f-0a9b8c7d6e5f';
      fs.writeFileSync(configFile, JSON.stringify({ ...config, nodeId: otherNode }), { mode: 0o600 });
      expect(await daemon.exited).toBe(1);
      expect(daemon.output()).toMatch(/set up again while it waited for the OS keychain/);
    } finally {
      if (daemon.child.exitCode === null) {
        daemon.child.kill('SIGKILL');
        await daemon.exited;
      }
    }
    expect(cloud.requests.filter((r) => r.url === '/ws/agent')).toHaveLength(2); // the two runs that started
  });
});

describe('credential failures that do not pass by themselves', () => {
  const dirs = tempDirs();
  const env = { CANOPY_NODE_HOME: dirs.home, HOME: dirs.userHome };
  let cloud: Awaited<ReturnType<typeof fakeCloud>>;
  beforeAll(async () => {
    cloud = await fakeCloud();
  });
  afterAll(async () => {
    await cloud.close();
    dirs.cleanup();
  });

  it('a home that was never set up exits 2 at once', async () => {
    const startedAt = Date.now();
    const daemon = await run(['daemon'], env);
    expect(daemon.code).toBe(2);
    expect(daemon.stderr).toMatch(/not set up: run canopy-node setup <KEY>/);
    expect(Date.now() - startedAt).toBeLessThan(5000);
  });

  it('a credential file that cannot be decrypted here exits 1 at once, without waiting', async () => {
    const setup = await run(['setup', '-', '--cloud', cloud.url], env, `${GOOD_KEY}\n`);
    expect(setup.code, setup.stderr).toBe(0);
    // The file of another machine (a copied home folder, say).
    await writeToken(dirs.home, AGENT_TOKEN, { prefer: 'file', machineId: 'another-machine', username: 'x' });
    const startedAt = Date.now();
    const daemon = await run(['daemon'], env);
    expect(daemon.code).toBe(1);
    expect(daemon.stderr).toMatch(
      /credential cannot be decrypted on this machine: run canopy-node setup again/,
    );
    expect(Date.now() - startedAt).toBeLessThan(5000);
    expect(fs.existsSync(path.join(dirs.home, 'canopy-node.pid'))).toBe(false);
  });
});
