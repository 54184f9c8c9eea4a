import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Launchd,
  type LaunchSpec,
  prepareSystemAccount,
  type RunCommand,
  renderPlist,
  renderUnit,
  runCommand,
  Systemd,
  scrubServicePassword,
  WINDOWS_RECOVERY,
  windowsRecoveryArgs,
  windowsServiceDefinition,
  windowsWrapperXml,
} from '.';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-service-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A real script at a path with a space and a percent sign: the quoting must survive both. */
const scriptDir = path.join(root, 'my apps', '100%');
fs.mkdirSync(scriptDir, { recursive: true });
const script = path.join(scriptDir, 'canopy-node.js');
fs.copyFileSync(fileURLToPath(new URL('../../bin/canopy-node.js', import.meta.url)), script);

const launch = (env: Record<string, string> = {}): LaunchSpec => ({
  node: process.execPath,
  script,
  env: { CANOPY_NODE_SERVICE: 'systemd', ...env },
});

/** systemd-analyze verify: exit 0 and nothing said about the unit (it warns on stderr with exit 0). */
function verify(unit: string): string {
  const dir = fs.mkdtempSync(path.join(root, 'unit-'));
  const file = path.join(dir, 'canopy-node.service');
  fs.writeFileSync(file, unit);
  const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  if (result.error) throw new Error(`systemd-analyze is needed for this test: ${result.error.message}`);
  return `${result.status}${result.stderr.trim() ? `\n${result.stderr.trim()}` : ''}`;
}

/** Records every command; answers from `answers` (by "command verb"), else exit 0. */
function recorder(answers: Record<string, { code: number; stdout?: string; stderr?: string }> = {}) {
  const calls: string[][] = [];
  const run: RunCommand = async (command, args) => {
    calls.push([command, ...args]);
    const answer = answers[`${command} ${args[0]}`] ?? answers[command];
    return { code: answer?.code ?? 0, stdout: answer?.stdout ?? '', stderr: answer?.stderr ?? '' };
  };
  return { calls, run };
}

describe('systemd units', () => {
  it('writes a user unit that systemd-analyze verifies, with the settings of spec 000', () => {
    const unit = renderUnit({ launch: launch({ CANOPY_NODE_HOME: path.join(root, 'node home %') }) });
    expect(verify(unit)).toBe('0');
    for (const line of [
      'After=network-online.target',
      'Wants=network-online.target',
      'Restart=on-failure',
      'RestartSec=5',
      'StartLimitIntervalSec=300',
      'StartLimitBurst=10',
      'WantedBy=default.target',
      'Environment=CANOPY_NODE_SERVICE=systemd',
    ]) {
      expect(unit.split('\n')).toContain(line);
    }
    expect(unit).toContain(`ExecStart=${process.execPath} "${script.replace(/%/g, '%%')}" daemon`);
    expect(unit).not.toMatch(/User=/);
    // The credential is never in the unit: no token, no key, no password.
    expect(unit).not.toMatch(/cn[tps]_|token|password|key=/i);
  });

  it('writes a system unit that systemd-analyze verifies, running as a dedicated account', () => {
    const unit = renderUnit({
      launch: launch(),
      system: { user: 'canopy-node', home: '/var/lib/canopy-node' },
    });
    expect(verify(unit)).toBe('0');
    expect(unit.split('\n')).toEqual(
      expect.arrayContaining(['User=canopy-node', 'Group=canopy-node', 'WantedBy=multi-user.target']),
    );
  });

  it('fails verification for a unit that is wrong (the check can fail)', () => {
    const broken = renderUnit({ launch: launch() }).replace('Restart=on-failure', 'Restart=sometimes');
    expect(verify(broken)).toMatch(/restart specifier/);
  });

  it('installs a system unit only after preparing the account, and says what it did', async () => {
    const { calls, run } = recorder({ 'systemctl is-active': { code: 3, stdout: 'inactive\n' } });
    const unitDir = fs.mkdtempSync(path.join(root, 'system-'));
    const manager = new Systemd({
      launch: launch(),
      run,
      userHome: '/root',
      userName: 'root',
      system: { user: 'canopy-node', home: '/var/lib/canopy-node' },
      unitDir,
      prepare: async () => ['prepared'],
    });
    const done = await manager.install();
    expect(done[0]).toBe('prepared');
    expect(fs.existsSync(path.join(unitDir, 'canopy-node.service'))).toBe(true);
    expect(calls).toEqual([
      ['systemctl', 'show-environment'],
      ['systemctl', 'is-active', 'canopy-node.service'],
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', 'canopy-node.service'],
    ]);
  });
});

describe('install --system: the dedicated account', () => {
  it('is made with useradd when missing, and must be set up before the unit is written', async () => {
    const { calls, run } = recorder({ 'id -u': { code: 1, stderr: 'id: no such user' } });
    const home = fs.mkdtempSync(path.join(root, 'var-lib-'));
    const nodeHome = path.join(home, '.canopy-node');
    const attempt = prepareSystemAccount(
      run,
      'canopy-node',
      home,
      nodeHome,
      '/usr/lib/node_modules/canopy-node/bin/canopy-node.js',
    );
    if (process.getuid?.() !== 0) {
      await expect(attempt).rejects.toThrow('sudo canopy-node install --system');
      return;
    }
    await expect(attempt).rejects.toThrow(/not set up yet[\s\S]*sudo -u canopy-node HOME=.* setup/);
    expect(calls).toContainEqual([
      'useradd',
      '--system',
      '--create-home',
      '--home-dir',
      home,
      '--shell',
      '/usr/sbin/nologin',
      'canopy-node',
    ]);
    fs.mkdirSync(nodeHome, { recursive: true });
    fs.writeFileSync(path.join(nodeHome, 'config.json'), '{}');
    const done = await prepareSystemAccount(
      run,
      'canopy-node',
      home,
      nodeHome,
      '/root/canopy/bin/canopy-node.js',
    );
    expect(done).toEqual([
      `Created the system account canopy-node (home ${home})`,
      expect.stringMatching(/is in a home folder; make sure canopy-node can read it/),
    ]);
  });
});

describe('launchd agent', () => {
  const logDir = path.join(root, 'node & <home>', 'logs');
  const spec = launch({ CANOPY_NODE_SERVICE: 'launchd' });

  it('writes a plist that a plist parser reads back with the keys of spec 000', () => {
    const file = path.join(root, 'dev.canopy.node.plist');
    fs.writeFileSync(file, renderPlist(spec, logDir));
    // Python's plistlib is a real, independent plist parser.
    const parsed = JSON.parse(
      execFileSync(
        'python3',
        ['-c', 'import json,plistlib,sys; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))', file],
        { encoding: 'utf8' },
      ),
    );
    expect(parsed).toEqual({
      Label: 'dev.canopy.node',
      ProgramArguments: [process.execPath, script, 'daemon'],
      EnvironmentVariables: { CANOPY_NODE_SERVICE: 'launchd' },
      RunAtLoad: true,
      KeepAlive: true,
      ThrottleInterval: 10,
      StandardOutPath: path.join(logDir, 'stdout.log'),
      StandardErrorPath: path.join(logDir, 'stderr.log'),
    });
  });

  it('bootstraps (or loads -w where bootstrap is unknown), is idempotent, and uninstall removes the plist', async () => {
    // A stand-in launchctl on PATH (apps/node/test/fake-systemd) records its calls and keeps what is loaded.
    const fakeBin = fileURLToPath(new URL('../../test/fake-systemd', import.meta.url));
    const state = fs.mkdtempSync(path.join(root, 'launchd-state-'));
    const saved = { PATH: process.env.PATH, FAKE_SYSTEMD_STATE: process.env.FAKE_SYSTEMD_STATE };
    process.env.PATH = `${fakeBin}:${process.env.PATH}`;
    process.env.FAKE_SYSTEMD_STATE = state;
    const calls = () =>
      fs
        .readFileSync(path.join(state, 'calls.log'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as string[]).join(' '));
    try {
      const userHome = fs.mkdtempSync(path.join(root, 'mac-'));
      const manager = new Launchd({ launch: spec, run: runCommand, userHome, uid: 501, logDir });
      const plist = path.join(userHome, 'Library', 'LaunchAgents', 'dev.canopy.node.plist');
      const done = await manager.install();
      expect(done).toEqual([`Wrote ${plist}`, expect.stringMatching(/^Loaded into launchd/)]);
      expect(calls()).toContain(`launchctl bootstrap gui/501 ${plist}`);
      expect(await manager.state()).toMatchObject({ installed: true, running: true });

      const again = await manager.install();
      expect(again[0]).toMatch(/already up to date/);
      expect(calls().filter((c) => c.includes('bootstrap'))).toHaveLength(1);

      await manager.uninstall();
      expect(calls()).toContain('launchctl bootout gui/501/dev.canopy.node');
      expect(fs.existsSync(plist)).toBe(false);
      expect((await manager.uninstall()).join('\n')).toMatch(/nothing to remove/);

      // macOS before 10.11 has no bootstrap: load -w instead.
      process.env.FAKE_LAUNCHCTL_NO_BOOTSTRAP = '1';
      await manager.install();
      expect(calls()).toContain(`launchctl load -w ${plist}`);
      expect(await manager.state()).toMatchObject({ running: true });
      await manager.uninstall();
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.FAKE_SYSTEMD_STATE === undefined) delete process.env.FAKE_SYSTEMD_STATE;
      else process.env.FAKE_SYSTEMD_STATE = saved.FAKE_SYSTEMD_STATE;
      delete process.env.FAKE_LAUNCHCTL_NO_BOOTSTRAP;
    }
  });
});

describe('Windows service', () => {
  it('carries the recovery settings: restart after 5 s, 30 s, 60 s, reset after a day', () => {
    const logDir = 'C:\\Users\\ada\\.canopy-node\\logs';
    const definition = windowsServiceDefinition(launch({ CANOPY_NODE_SERVICE: 'windows' }), logDir);
    expect(definition).toMatchObject({
      name: 'CanopyNode',
      script,
      scriptOptions: 'daemon',
      execPath: process.execPath,
      logpath: logDir,
      env: [{ name: 'CANOPY_NODE_SERVICE', value: 'windows' }],
    });
    expect(WINDOWS_RECOVERY).toEqual({ resetAfterS: 86_400, restartDelaysMs: [5000, 30_000, 60_000] });
    expect(windowsRecoveryArgs()).toEqual([
      'failure',
      'canopynode.exe',
      'reset=',
      '86400',
      'actions=',
      'restart/5000/restart/30000/restart/60000',
    ]);
  });

  it('takes the account password out of the node-windows wrapper XML after installing', async () => {
    expect(
      windowsWrapperXml(
        'C:\\Users\\ada\\AppData\\Roaming\\npm\\node_modules\\canopy-node\\bin\\canopy-node.js',
      ),
    ).toBe('C:\\Users\\ada\\AppData\\Roaming\\npm\\node_modules\\canopy-node\\bin\\daemon\\canopynode.xml');
    const file = path.join(root, 'canopynode.xml');
    fs.writeFileSync(
      file,
      '<service><id>canopynode.exe</id><serviceaccount><domain>PC</domain><user>ada</user><password>s3cr3t pass</password></serviceaccount></service>',
    );
    expect(await scrubServicePassword(file)).toBe(true);
    const xml = fs.readFileSync(file, 'utf8');
    expect(xml).not.toContain('s3cr3t');
    expect(xml).toContain('<user>ada</user><password></password>');
    expect(await scrubServicePassword(path.join(root, 'missing.xml'))).toBe(false);
  });
});
