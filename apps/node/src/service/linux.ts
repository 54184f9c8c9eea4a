import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError } from '../cli/errors';
import { readIfExists, requireInstalled } from './files';
import { type RunCommand, said } from './run';
import type { LaunchSpec, ServiceManager, ServiceState } from './types';

export const UNIT_NAME = 'canopy-node.service';
/** The dedicated account of `install --system`. */
export const SYSTEM_USER = 'canopy-node';
export const SYSTEM_UNIT_DIR = '/etc/systemd/system';

/** Quotes one word of an ExecStart= or Environment= line (systemd.service(5), "Command lines"). */
export function systemdWord(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export interface UnitOptions {
  launch: LaunchSpec;
  /** A system unit runs as this account; a user unit as the user who installed it. */
  system?: { user: string; home: string };
}

/**
 * The unit (spec 000 §2.4, §4): started once the network is up, restarted 5 s after a crash, at most 10
 * starts in 300 s. The credential is read by the daemon from the keychain or its file, never from here.
 */
export function renderUnit({ launch, system }: UnitOptions): string {
  const env = Object.entries({ NODE_ENV: 'production', ...launch.env }).map(
    ([name, value]) => `Environment=${systemdWord(`${name}=${value}`)}`,
  );
  const lines = [
    '# Written by `canopy-node install`; `canopy-node uninstall` removes it.',
    '[Unit]',
    'Description=Canopy node (canopy-node daemon)',
    'After=network-online.target',
    'Wants=network-online.target',
    'StartLimitIntervalSec=300',
    'StartLimitBurst=10',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${[launch.node, launch.script, 'daemon'].map(systemdWord).join(' ')}`,
    'Restart=on-failure',
    'RestartSec=5',
    'TimeoutStopSec=15',
    ...env,
  ];
  if (system) {
    lines.push(
      `User=${system.user}`,
      `Group=${system.user}`,
      `WorkingDirectory=${systemdWord(system.home)}`,
      'NoNewPrivileges=yes',
      'PrivateTmp=yes',
    );
  }
  lines.push('', '[Install]', `WantedBy=${system ? 'multi-user.target' : 'default.target'}`, '');
  return lines.join('\n');
}

export interface SystemdOptions {
  launch: LaunchSpec;
  run: RunCommand;
  /** The user's home (the user unit goes to $XDG_CONFIG_HOME/systemd/user, default ~/.config/…). */
  userHome: string;
  xdgConfigHome?: string;
  /** Login name, for the lingering hint. */
  userName: string;
  /** `--system`: a system unit running as `system.user`. */
  system?: { user: string; home: string };
  /** Where the unit goes instead of the default (tests). */
  unitDir?: string;
  /** Runs before install writes anything (system mode: root check, the account, its setup). */
  prepare?: () => Promise<string[]>;
}

/** systemd: a user unit by default, a system unit with `--system` (spec 000 §2.4). */
export class Systemd implements ServiceManager {
  readonly kind: string;
  readonly file: string;
  private readonly scope: string[];

  constructor(private readonly options: SystemdOptions) {
    this.kind = options.system ? 'systemd system service' : 'systemd user service';
    const dir = options.unitDir
      ? options.unitDir
      : options.system
        ? SYSTEM_UNIT_DIR
        : path.join(options.xdgConfigHome || path.join(options.userHome, '.config'), 'systemd', 'user');
    this.file = path.join(dir, UNIT_NAME);
    this.scope = options.system ? [] : ['--user'];
  }

  private systemctl(...args: string[]) {
    return this.options.run('systemctl', [...this.scope, ...args]);
  }

  /** Fails with what to do when systemd (or its user session) cannot be reached. */
  private async reachable(): Promise<void> {
    const probe = await this.systemctl('show-environment');
    if (probe.code === 0) return;
    if (this.options.system) {
      throw new CliError(
        `systemd is not reachable (systemctl said: ${said(probe)}). Is this system booted with systemd?`,
      );
    }
    throw new CliError(
      `systemd's user session is not reachable (systemctl --user said: ${said(probe)}).\n` +
        'This happens over SSH without a login session, in containers, or on systems without systemd. ' +
        `Either log in at the machine, or let your user manager run without a session ` +
        `(sudo loginctl enable-linger ${this.options.userName}) and log in again, or install a system ` +
        'service instead: sudo canopy-node install --system',
    );
  }

  private async writeUnit(): Promise<'written' | 'unchanged'> {
    const unit = renderUnit({ launch: this.options.launch, system: this.options.system });
    const current = await readIfExists(this.file);
    if (current === unit) return 'unchanged';
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      await writeFile(this.file, unit, { mode: 0o644 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new CliError(
        code === 'EACCES' || code === 'EPERM'
          ? `Permission denied writing ${this.file}${this.options.system ? ': run it with sudo' : ''}.`
          : `Cannot write ${this.file}: ${(err as Error).message}`,
      );
    }
    return 'written';
  }

  private async must(args: string[], what: string): Promise<void> {
    const result = await this.systemctl(...args);
    if (result.code !== 0) {
      throw new CliError(
        `${what} failed: systemctl ${[...this.scope, ...args].join(' ')} said: ${said(result)}\n` +
          `See: ${this.options.system ? 'journalctl -u' : 'journalctl --user -u'} ${UNIT_NAME}, and canopy-node logs`,
      );
    }
  }

  async install(): Promise<string[]> {
    await this.reachable();
    const done: string[] = [...((await this.options.prepare?.()) ?? [])];
    const wasActive = (await this.systemctl('is-active', UNIT_NAME)).code === 0;
    const written = await this.writeUnit();
    done.push(written === 'written' ? `Wrote ${this.file}` : `${this.file} is already up to date`);
    await this.must(['daemon-reload'], 'Reloading systemd');
    await this.must(['enable', '--now', UNIT_NAME], 'Enabling and starting canopy-node');
    if (written === 'written' && wasActive) {
      await this.must(['restart', UNIT_NAME], 'Restarting canopy-node with the new unit');
      done.push('Restarted it with the new unit');
    }
    done.push(
      this.options.system
        ? `Enabled at boot (runs as ${this.options.system.user}) and started`
        : 'Enabled (starts with your user session) and started',
    );
    if (!this.options.system) {
      const linger = await this.options.run('loginctl', [
        'show-user',
        this.options.userName,
        '--property=Linger',
        '--value',
      ]);
      if (linger.code !== 0 || linger.stdout.trim() !== 'yes') {
        done.push(
          'Note: without a login session it starts only when you log in. To start it at boot, run: ' +
            `sudo loginctl enable-linger ${this.options.userName}`,
        );
      }
    }
    return done;
  }

  async uninstall(): Promise<string[]> {
    const exists = (await readIfExists(this.file)) !== null;
    if (!exists)
      return [`canopy-node is not installed as a ${this.kind} (no ${this.file}); nothing to remove`];
    await this.reachable();
    const done: string[] = [];
    const disabled = await this.systemctl('disable', '--now', UNIT_NAME);
    done.push(
      disabled.code === 0 ? 'Stopped and disabled canopy-node' : `Could not disable it: ${said(disabled)}`,
    );
    try {
      await rm(this.file, { force: true });
    } catch (err) {
      throw new CliError(
        `Cannot remove ${this.file}: ${(err as Error).message}${this.options.system ? ' (run it with sudo)' : ''}`,
      );
    }
    done.push(`Removed ${this.file}`);
    await this.systemctl('daemon-reload');
    await this.systemctl('reset-failed', UNIT_NAME);
    return done;
  }

  async start(): Promise<string[]> {
    await requireInstalled(this.file);
    await this.must(['start', UNIT_NAME], 'Starting canopy-node');
    return ['Started canopy-node'];
  }

  async stop(): Promise<string[]> {
    await requireInstalled(this.file);
    await this.must(['stop', UNIT_NAME], 'Stopping canopy-node');
    return [
      'Stopped canopy-node (it starts again at the next boot or login; `canopy-node uninstall` removes it)',
    ];
  }

  async restart(): Promise<string[]> {
    await requireInstalled(this.file);
    await this.must(['restart', UNIT_NAME], 'Restarting canopy-node');
    return ['Restarted canopy-node'];
  }

  async state(): Promise<ServiceState> {
    const current = await readIfExists(this.file);
    const installed = current !== null;
    if (!installed) {
      return {
        installed,
        enabled: false,
        running: false,
        detail: 'not installed',
        file: this.file,
        outdated: false,
      };
    }
    const enabled = await this.systemctl('is-enabled', UNIT_NAME);
    const active = await this.systemctl('is-active', UNIT_NAME);
    return {
      installed,
      enabled: enabled.code === 0,
      running: active.code === 0,
      detail: `${active.stdout.trim() || said(active)}, ${enabled.stdout.trim() || said(enabled)}`,
      file: this.file,
      outdated: current !== renderUnit({ launch: this.options.launch, system: this.options.system }),
    };
  }
}
