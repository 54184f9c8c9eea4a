import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadToken } from '../src/credential';
import {
  AGENT_ID,
  AGENT_TOKEN,
  fakeCloud,
  freePort,
  GOOD_KEY,
  run,
  SPENT_KEY,
  start,
  tempDirs,
  waitFor,
} from './cli-process';

const secrets = [AGENT_TOKEN, GOOD_KEY, 'cns_session_token_never_printed'];
const expectNoSecrets = (...texts: string[]) => {
  for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
};
const mode = (file: string) => fs.statSync(file).mode & 0o777;

/** Every command of `canopy-node --help`. */
const COMMANDS = [
  'setup',
  'connect',
  'daemon',
  'status',
  'logs',
  'pending',
  'approve',
  'reject',
  'install',
  'uninstall',
  'start',
  'stop',
  'restart',
];

describe('canopy-node CLI: commands and exit codes', () => {
  const dirs = tempDirs();
  const env = { CANOPY_NODE_HOME: dirs.home, HOME: dirs.userHome };
  afterAll(() => dirs.cleanup());

  it('prints help and version with exit code 0', async () => {
    const help = await run(['--help'], env);
    expect(help.code).toBe(0);
    for (const command of COMMANDS) {
      expect(help.stdout, command).toMatch(new RegExp(`canopy-node [^\\n]*\\b${command}\\b`));
    }
    expect(help.stdout).toMatch(
      /Exit codes: 0 ok, 1 failure, 2 usage or configuration error \(or not set up\)\./,
    );
    const version = await run(['--version'], env);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('has --help for every command', async () => {
    for (const command of COMMANDS) {
      const result = await run([command, '--help'], env);
      expect(result.code, command).toBe(0);
      expect(result.stdout, command).toMatch(new RegExp(`Usage: canopy-node ${command}`));
    }
    expect((await run(['setup', '-h'], env)).stdout).toMatch(/any number of machines until you revoke it/);
    expect((await run(['help', 'logs'], env)).stdout).toMatch(/--follow/);
  });

  it('exits 2 on an unknown command, option or extra argument', async () => {
    const unknown = await run(['frobnicate'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown command "frobnicate"/);
    const option = await run(['status', '--verbose'], env);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/--verbose.*\n.*canopy-node status --help/);
    const extra = await run(['approve', 'a', 'b'], env);
    expect(extra.code).toBe(2);
    const lines = await run(['logs', '-n', 'many'], env);
    expect(lines.code).toBe(2);
  });

  it('refuses to install a service before setup, and to manage one that is not installed', async () => {
    const install = await run(['install'], env);
    expect(install.code).toBe(2);
    expect(install.stderr).toContain('This machine is not set up yet: run `canopy-node setup <KEY>` first');
    for (const command of ['start', 'stop', 'restart']) {
      const result = await run([command], env);
      expect(result.code, command).toBe(1);
      expect(result.stderr).toContain('not installed as a service: run `canopy-node install` first');
    }
    const uninstall = await run(['uninstall'], env);
    expect(uninstall.code).toBe(0);
    expect(uninstall.stdout).toContain('nothing to remove');
    const runAs = await run(['install', '--run-as', 'x'], env);
    expect(runAs.code).toBe(2);
    expect(runAs.stderr).toContain('--run-as goes with --system');
  });

  it('says a fresh machine is not set up (status 0, daemon exit 2) without creating the home', async () => {
    const status = await run(['status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/not set up: run `canopy-node setup <KEY>`/);
    const daemon = await run(['daemon'], env);
    expect(daemon.code).toBe(2);
    expect(daemon.stderr).toMatch(/not set up: run canopy-node setup <KEY>/);
    expect(fs.existsSync(dirs.home)).toBe(false);
    expect((await run(['pending'], env)).stdout).toMatch(/No tasks are waiting/);
    expect((await run(['logs'], env)).stdout).toMatch(/No logs yet/);
  });

  it('rejects a bad environment variable with exit 2', async () => {
    const result = await run(['status'], { ...env, CANOPY_NODE_CREDENTIAL_STORE: 'vault' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/CANOPY_NODE_CREDENTIAL_STORE must be auto, keychain or file/);
  });
});

describe('canopy-node CLI: configuration', () => {
  let dirs: ReturnType<typeof tempDirs>;
  let env: Record<string, string>;
  const configFile = () => path.join(dirs.home, 'config.json');
  const writeConfig = (value: unknown, fileMode = 0o600) => {
    fs.mkdirSync(dirs.home, { recursive: true, mode: 0o700 });
    fs.writeFileSync(configFile(), JSON.stringify(value));
    fs.chmodSync(configFile(), fileMode);
  };
  beforeAll(() => {
    dirs = tempDirs();
    env = { CANOPY_NODE_HOME: dirs.home, HOME: dirs.userHome };
  });
  afterAll(() => dirs.cleanup());

  it('names the file and the field of an invalid setting, exit 2', async () => {
    writeConfig({ version: 2, logLevel: 'chatty' });
    for (const command of ['status', 'daemon', 'connect']) {
      const result = await run([command], env);
      expect(result.code, command).toBe(2);
      expect(result.stderr).toContain(configFile());
      expect(result.stderr).toMatch(/logLevel: .*"chatty"/);
    }
  });

  it('fixes a config file others can read, and says so on stderr', async () => {
    writeConfig({ version: 2 }, 0o644);
    fs.chmodSync(dirs.home, 0o755);
    const result = await run(['status'], env);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/config\.json was readable by others \(mode 0644\): changed to 0600/);
    expect(mode(configFile())).toBe(0o600);
    expect(mode(dirs.home)).toBe(0o700);
  });

  it('moves the plaintext key of a v0.1 config into the credential store', async () => {
    writeConfig({ apiKey: 'cnt_old_plaintext_key', apiUrl: 'http://127.0.0.1:9', nodeId: AGENT_ID });
    const result = await run(['status'], env);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/Run `canopy-node install` to enable auto-start/);
    expect(`${result.stdout}${result.stderr}`).not.toContain('cnt_old_plaintext_key');
    const text = fs.readFileSync(configFile(), 'utf8');
    expect(text).not.toContain('cnt_old_plaintext_key');
    expect(JSON.parse(text)).toMatchObject({
      version: 2,
      cloudUrl: 'http://127.0.0.1:9',
      nodeId: AGENT_ID,
      credentialStore: 'file',
    });
    expect(mode(path.join(dirs.home, 'credential.enc'))).toBe(0o600);
    expect(await loadToken(dirs.home, { keychain: null })).toBe('cnt_old_plaintext_key');
    // Done once: the next start has nothing to migrate.
    expect((await run(['status'], env)).stderr).not.toMatch(/Upgraded/);
  });
});

describe('canopy-node CLI: setup, daemon, status, logs', () => {
  let cloud: Awaited<ReturnType<typeof fakeCloud>>;
  let dirs: ReturnType<typeof tempDirs>;
  let env: Record<string, string>;
  let healthPort: number;
  beforeAll(async () => {
    cloud = await fakeCloud();
    dirs = tempDirs();
    env = { CANOPY_NODE_HOME: dirs.home, HOME: dirs.userHome };
    healthPort = await freePort();
  });
  afterAll(async () => {
    await cloud.close();
    dirs.cleanup();
  });

  it('refuses something that is not an enrollment key (exit 2) and a spent key (exit 1)', async () => {
    const wrong = await run(['setup', 'hello', '--cloud', cloud.url], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/does not look like an enrollment key \(they start with cnp_\)/);
    const spent = await run(['setup', SPENT_KEY, '--cloud', cloud.url], env);
    expect(spent.code).toBe(1);
    expect(spent.stderr).toMatch(/refused the enrollment key: it is unknown or was revoked/);
    const badUrl = await run(['setup', GOOD_KEY, '--cloud', 'ftp://x'], env);
    expect(badUrl.code).toBe(2);
    const closed = await freePort();
    const down = await run(['setup', GOOD_KEY, '--cloud', `http://127.0.0.1:${closed}`], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(
      `Cannot reach the Canopy cloud at http://127.0.0.1:${closed} (ECONNREFUSED).`,
    );
  });

  it('registers with a key from stdin, keeps the token encrypted and the ids in config', async () => {
    const result = await run(
      ['setup', '-', '--cloud', `${cloud.url}/`, '--name', 'bench-pc'],
      env,
      `${GOOD_KEY}\n`,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Registered as node 7e0b8d1c-.* \(bench-pc\)/);
    expect(result.stdout).toMatch(/Keep the enrollment key secret/);
    expect(result.stdout).not.toMatch(/shell history/);
    expectNoSecrets(result.stdout, result.stderr);

    const register = cloud.requests.filter((r) => r.url === '/api/v1/agents/register').at(-1);
    const body = register?.body as Record<string, unknown>;
    expect(body).toMatchObject({ enrollment_key: GOOD_KEY, name: 'bench-pc' });
    expect(body.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(body.os).toMatch(/\(.+\)$/);
    expect(JSON.stringify(body.network_interfaces)).not.toMatch(/mac/i);

    const config = JSON.parse(fs.readFileSync(path.join(dirs.home, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      nodeId: AGENT_ID,
      nodeName: 'bench-pc',
      cloudUrl: cloud.url,
      wsUrl: `${cloud.url.replace('http:', 'ws:')}/ws/agent`,
      credentialStore: 'file',
    });
    expectNoSecrets(fs.readFileSync(path.join(dirs.home, 'config.json'), 'utf8'));
    expectNoSecrets(fs.readFileSync(path.join(dirs.home, 'credential.enc'), 'utf8'));
    expect(await loadToken(dirs.home, { keychain: null })).toBe(AGENT_TOKEN);
  });

  it('hints that a key typed on the command line sits in the shell history', async () => {
    const result = await run(['setup', GOOD_KEY], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/now in your shell history/);
    expectNoSecrets(result.stdout, result.stderr);
    const config = JSON.parse(fs.readFileSync(path.join(dirs.home, 'config.json'), 'utf8'));
    config.healthPort = healthPort;
    fs.writeFileSync(path.join(dirs.home, 'config.json'), JSON.stringify(config));
  });

  it('runs as a daemon: healthy once welcomed, status tells, SIGTERM says goodbye and exits 0', async () => {
    const daemon = start(['daemon'], env);
    try {
      const health = await waitFor('a healthy daemon', async () => {
        const res = await fetch(`http://127.0.0.1:${healthPort}/health`).catch(() => null);
        return res?.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined;
      });
      expect(health).toMatchObject({
        status: 'healthy',
        connection: 'connected',
        nodeId: AGENT_ID,
        wsConnected: true,
      });

      const ws = cloud.requests.find((r) => r.url === '/ws/agent');
      expect(ws?.headers.authorization).toBe(`Bearer ${AGENT_TOKEN}`);
      const registered = cloud.requests.find((r) => r.url === '/api/v1/agents/register');
      expect(ws?.headers['x-canopy-fingerprint']).toBe(
        (registered?.body as { fingerprint?: string } | undefined)?.fingerprint ?? 'missing',
      );

      const status = await run(['status'], env);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/daemon: +running \(pid \d+\)/);
      expect(status.stdout).toMatch(/state: +connected since/);
      expect(status.stdout).toContain(`node:       ${AGENT_ID} (bench-pc)`);
      expect(status.stdout).toMatch(
        /service: +not installed \(`canopy-node install` starts it at boot and after a crash\)/,
      );

      const second = await run(['daemon'], env);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/already running from this home \(pid \d+\)/);

      expect(await daemon.stop('SIGTERM')).toBe(0);
      expect(cloud.frames).toContainEqual(
        expect.objectContaining({ type: 'going_offline', reason: 'shutdown' }),
      );
    } finally {
      if (daemon.child.exitCode === null) {
        daemon.child.kill('SIGKILL');
        await daemon.exited;
      }
    }
    // Daemon mode writes nothing to the console; the file has it all, without secrets.
    expect(daemon.output()).toBe('');
    expect(fs.existsSync(path.join(dirs.home, 'canopy-node.pid'))).toBe(false);
    const logs = await run(['logs', '-n', '200'], env);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/INFO {2}canopy-node .* starting/);
    expect(logs.stdout).toMatch(/canopy-node stopped/);
    const files = fs.readdirSync(path.join(dirs.home, 'logs'));
    expect(files.every((f) => /^canopy-node-\d{4}-\d\d-\d\d(-\d+)?\.log$/.test(f))).toBe(true);
    const raw = files.map((f) => fs.readFileSync(path.join(dirs.home, 'logs', f), 'utf8')).join('');
    expectNoSecrets(raw, logs.stdout);
    const notRunning = await run(['status'], env);
    expect(notRunning.stdout).toMatch(/daemon: +not running/);
  });

  it('connect runs in the foreground with readable logs, keeps going when the health port is taken, and stops on Ctrl-C', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(healthPort, '127.0.0.1', resolve));
    const connect = start(['connect', GOOD_KEY], env);
    try {
      await waitFor('the connected line', () => /INFO {2}.*connected/i.test(connect.output()) || undefined);
      expect(connect.output()).toMatch(/already set up as node .*; the key was not used/);
      expect(connect.output()).toMatch(
        /WARN {2}health endpoint not started: cannot listen on 127\.0\.0\.1:\d+ \(the port is in use\)/,
      );
      expect(connect.output()).not.toMatch(/^\{"level"/m);
      expect(await connect.stop('SIGINT')).toBe(0);
    } finally {
      if (connect.child.exitCode === null) {
        connect.child.kill('SIGKILL');
        await connect.exited;
      }
      blocker.close();
    }
    expectNoSecrets(connect.output());
  });
});
