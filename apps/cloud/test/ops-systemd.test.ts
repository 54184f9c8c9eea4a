import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The shipped units in infra/systemd, checked by systemd's own verifier (systemd is installed here but not
// running, which `verify` does not need).
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const UNITS = path.join(REPO, 'infra/systemd');
const VERIFY = '/usr/bin/systemd-analyze';
const missing = fs.existsSync(VERIFY) ? undefined : `${VERIFY} is absent (apt-get install systemd)`;
if (missing && process.env.CI) throw new Error(`CI=true but ${missing}`);

const unit = (name: string) => fs.readFileSync(path.join(UNITS, name), 'utf8');
/** `Key=value` lines of a unit, last one wins (as systemd reads them, minus list semantics). */
const settings = (text: string) =>
  Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^[A-Za-z]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

describe('infra/systemd units', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-units-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it.skipIf(missing !== undefined)(
    `pass systemd-analyze verify${missing ? ` (skipped: ${missing})` : ''}`,
    () => {
      // verify also checks that ExecStart's program exists: point the install path at this checkout, and
      // node at this one, so the scripts the units name are the ones in the repository.
      const names = fs.readdirSync(UNITS).filter((f) => /\.(service|timer)$/.test(f));
      expect(names.sort()).toEqual(['canopy-backup.service', 'canopy-backup.timer', 'canopy-cloud.service']);
      for (const name of names) {
        const text = unit(name)
          .replaceAll('/opt/canopy/current', REPO.replace(/\/$/, ''))
          .replaceAll('/usr/bin/node', process.execPath);
        fs.writeFileSync(path.join(tmp, name), text);
      }
      const r = spawnSync(VERIFY, ['verify', ...names.map((n) => path.join(tmp, n))], {
        encoding: 'utf8',
        env: { ...process.env, SYSTEMD_LOG_LEVEL: 'warning' },
      });
      expect(`${r.stdout}${r.stderr}`).toBe('');
      expect(r.status).toBe(0);
    },
  );

  it('runs canopy-cloud as user canopy with the root-only environment file, restarts on failure, hardened', () => {
    const s = settings(unit('canopy-cloud.service'));
    expect(s).toMatchObject({
      User: 'canopy',
      Group: 'canopy',
      EnvironmentFile: '/etc/canopy-cloud.env',
      Restart: 'on-failure',
      RestartPreventExitStatus: '2',
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      ReadWritePaths: '/var/lib/canopy',
      CapabilityBoundingSet: '',
    });
    expect(s.ExecStart).toMatch(/canopy-cloud\.js serve$/);
  });

  it('backs up daily through a timer, with the same environment file', () => {
    const service = settings(unit('canopy-backup.service'));
    const timer = settings(unit('canopy-backup.timer'));
    expect(service).toMatchObject({
      Type: 'oneshot',
      User: 'canopy',
      EnvironmentFile: '/etc/canopy-cloud.env',
    });
    expect(service.ExecStart).toMatch(/infra\/backup\/canopy-backup\.sh/);
    expect(service.ReadWritePaths).toBe('/var/backups/canopy');
    expect(timer).toMatchObject({ Persistent: 'true', Unit: 'canopy-backup.service' });
    expect(timer.OnCalendar).toMatch(/\*-\*-\* \d\d:\d\d:\d\d/);
  });
});
