import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// infra/deploy/activate.sh against a temporary install root, with systemd-run, systemctl and curl replaced
// by stand-ins on PATH that record their calls (systemd is not running here).
const ACTIVATE = fileURLToPath(new URL('../../../infra/deploy/activate.sh', import.meta.url));
const root = process.getuid?.() === 0;
const missing = root ? undefined : 'needs root (the script chowns the release to root)';
if (missing && process.env.CI) throw new Error(`CI=true but activate.sh's test ${missing}`);

describe.skipIf(missing !== undefined)(
  `infra/deploy/activate.sh${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let tmp: string;
    let install: string;
    let bin: string;
    let calls: string;

    const release = (name: string, ageMinutes: number) => {
      const dir = path.join(install, 'releases', name);
      fs.mkdirSync(path.join(dir, 'apps/cloud/dist'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'apps/cloud/dist/cli.js'), '');
      const t = new Date(Date.now() - ageMinutes * 60_000);
      fs.utimesSync(dir, t, t);
      return dir;
    };
    const stub = (name: string, exitVar: string) =>
      fs.writeFileSync(
        path.join(bin, name),
        `#!/usr/bin/env bash\necho "${name} $*" >> "${calls}"\nexit "\${${exitVar}:-0}"\n`,
        { mode: 0o755 },
      );
    const activate = (args: string[], env: Record<string, string> = {}) => {
      const r = spawnSync('bash', [ACTIVATE, ...args], {
        encoding: 'utf8',
        env: {
          PATH: `${bin}:${process.env.PATH}`,
          CANOPY_ROOT: install,
          CANOPY_READY_TIMEOUT_S: '2',
          ...env,
        },
      });
      return { code: r.status, out: `${r.stdout}${r.stderr}` };
    };
    const recorded = () => (fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8') : '');

    beforeEach(() => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-activate-'));
      install = path.join(tmp, 'opt-canopy');
      bin = path.join(tmp, 'bin');
      calls = path.join(tmp, 'calls.log');
      fs.mkdirSync(bin, { recursive: true });
      stub('systemd-run', 'STUB_MIGRATE_EXIT');
      stub('systemctl', 'STUB_SYSTEMCTL_EXIT');
      stub('curl', 'STUB_READY_EXIT');
    });
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it('migrates as canopy with the environment file, switches, restarts, keeps five releases', () => {
      for (let i = 1; i <= 6; i++) release(`r${i}`, 100 - i);
      fs.symlinkSync(path.join(install, 'releases/r6'), path.join(install, 'current'));
      const target = release('r7', 0);
      const r = activate(['r7']);
      expect(r.out).toMatch(/r7 is live/);
      expect(r.code).toBe(0);
      expect(fs.readlinkSync(path.join(install, 'current'))).toBe(target);
      expect(fs.readFileSync(path.join(install, 'previous-release'), 'utf8').trim()).toBe(
        path.join(install, 'releases/r6'),
      );
      const log = recorded().split('\n');
      const migrate = log.find((l) => l.startsWith('systemd-run'));
      expect(migrate).toContain('--uid=canopy');
      expect(migrate).toContain('--property=EnvironmentFile=/etc/canopy-cloud.env');
      expect(migrate).toContain(`${target}/apps/cloud/bin/canopy-cloud.js migrate`);
      expect(log.indexOf(migrate as string)).toBeLessThan(log.indexOf('systemctl restart canopy-cloud'));
      expect(log.some((l) => l.startsWith('curl') && l.includes('http://127.0.0.1:8080/readyz'))).toBe(true);
      expect(fs.readdirSync(path.join(install, 'releases')).sort()).toEqual(['r3', 'r4', 'r5', 'r6', 'r7']);
    });

    it('does a first deploy (one release, nothing current yet)', () => {
      const first = release('first', 0);
      const r = activate(['first']);
      expect(r.out).toMatch(/first is live \(previous: none\)/);
      expect(r.code).toBe(0);
      expect(fs.readlinkSync(path.join(install, 'current'))).toBe(first);
      expect(fs.existsSync(path.join(install, 'previous-release'))).toBe(false);
    });

    it('stops before the switch when the migration (or its backup) fails', () => {
      const old = release('old', 10);
      fs.symlinkSync(old, path.join(install, 'current'));
      release('new', 0);
      const r = activate(['new'], { STUB_MIGRATE_EXIT: '1' });
      expect(r.code).toBe(1);
      expect(fs.readlinkSync(path.join(install, 'current'))).toBe(old);
      expect(recorded()).not.toMatch(/systemctl/);
    });

    it('fails, naming the way back, when the new release does not become ready', () => {
      release('new', 0);
      const r = activate(['new'], { STUB_READY_EXIT: '7' });
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/did not become ready within 2 s.*rollback/s);
    });

    it('refuses a release name that is a path, or a folder without a build', () => {
      expect(activate(['../etc']).code).toBe(2);
      fs.mkdirSync(path.join(install, 'releases/empty'), { recursive: true });
      const r = activate(['empty']);
      expect(r.code).toBe(2);
      expect(r.out).toMatch(/holds no built canopy-cloud/);
      expect(recorded()).toBe('');
    });
  },
);
