import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError } from '../cli/errors';
import { readIfExists, requireInstalled } from './files';
import { type RunCommand, said } from './run';
import type { LaunchSpec, ServiceManager, ServiceState } from './types';

export const LAUNCHD_LABEL = 'dev.canopy.node';

const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The LaunchAgent (spec 000 §2.3): started at login, kept alive, at most one start every 10 s, console
 * output in the node's log folder. The credential is read by the daemon from the keychain, never from here.
 */
export function renderPlist(launch: LaunchSpec, logDir: string): string {
  const env = Object.entries(launch.env)
    .map(([name, value]) => `    <key>${xml(name)}</key>\n    <string>${xml(value)}</string>`)
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by \`canopy-node install\`; \`canopy-node uninstall\` removes it. -->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
    <string>${xml(launch.node)}</string>
    <string>${xml(launch.script)}</string>
    <string>daemon</string>
  </array>
  <key>EnvironmentVariables</key>
  <dict>
${env}
  </dict>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <true/>
  <key>ThrottleInterval</key>
  <integer>10</integer>
  <key>StandardOutPath</key>
  <string>${xml(path.join(logDir, 'stdout.log'))}</string>
  <key>StandardErrorPath</key>
  <string>${xml(path.join(logDir, 'stderr.log'))}</string>
</dict>
</plist>
`;
}

export interface LaunchdOptions {
  launch: LaunchSpec;
  run: RunCommand;
  userHome: string;
  uid: number;
  /** <home>/logs of canopy-node. */
  logDir: string;
}

/** launchd on macOS: a LaunchAgent in ~/Library/LaunchAgents (spec 000 §2.3). */
export class Launchd implements ServiceManager {
  readonly kind = 'launchd agent';
  readonly file: string;
  private readonly domain: string;
  private readonly target: string;

  constructor(private readonly options: LaunchdOptions) {
    this.file = path.join(options.userHome, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
    this.domain = `gui/${options.uid}`;
    this.target = `${this.domain}/${LAUNCHD_LABEL}`;
  }

  private launchctl(...args: string[]) {
    return this.options.run('launchctl', args);
  }

  private async loaded(): Promise<boolean> {
    return (await this.launchctl('print', this.target)).code === 0;
  }

  /** bootstrap, or `load -w` where bootstrap is unknown (macOS before 10.11) or refused. */
  private async load(): Promise<void> {
    const boot = await this.launchctl('bootstrap', this.domain, this.file);
    if (boot.code === 0) return;
    const legacy = await this.launchctl('load', '-w', this.file);
    if (legacy.code !== 0) {
      throw new CliError(
        `launchd refused to load ${this.file}: launchctl bootstrap said: ${said(boot)}; launchctl load said: ${said(legacy)}`,
      );
    }
  }

  /** bootout, or `unload -w` as the fallback; true when something was unloaded. */
  private async unload(): Promise<boolean> {
    if (!(await this.loaded())) return false;
    const out = await this.launchctl('bootout', this.target);
    if (out.code === 0) return true;
    const legacy = await this.launchctl('unload', '-w', this.file);
    if (legacy.code !== 0) {
      throw new CliError(
        `launchd would not unload ${LAUNCHD_LABEL}: launchctl bootout said: ${said(out)}; launchctl unload said: ${said(legacy)}`,
      );
    }
    return true;
  }

  async install(): Promise<string[]> {
    const plist = renderPlist(this.options.launch, this.options.logDir);
    const current = await readIfExists(this.file);
    const done: string[] = [];
    if (current !== plist) {
      try {
        await mkdir(path.dirname(this.file), { recursive: true });
        await mkdir(this.options.logDir, { recursive: true, mode: 0o700 });
        await writeFile(this.file, plist, { mode: 0o644 });
      } catch (err) {
        throw new CliError(`Cannot write ${this.file}: ${(err as Error).message}`);
      }
      done.push(`Wrote ${this.file}`);
      // A loaded agent keeps its old definition until it is unloaded.
      if (await this.unload()) done.push('Unloaded the previous definition');
    } else {
      done.push(`${this.file} is already up to date`);
    }
    if (!(await this.loaded())) await this.load();
    done.push('Loaded into launchd: it runs now and at every login, restarted if it stops');
    return done;
  }

  async uninstall(): Promise<string[]> {
    const exists = (await readIfExists(this.file)) !== null;
    const done: string[] = [];
    if (await this.unload()) done.push(`Stopped and unloaded ${LAUNCHD_LABEL}`);
    if (!exists) {
      done.push(`canopy-node is not installed as a ${this.kind} (no ${this.file}); nothing to remove`);
      return done;
    }
    await rm(this.file, { force: true });
    done.push(`Removed ${this.file}`);
    return done;
  }

  async start(): Promise<string[]> {
    await requireInstalled(this.file);
    if (!(await this.loaded())) {
      await this.load();
      return ['Loaded and started canopy-node'];
    }
    const kick = await this.launchctl('kickstart', this.target);
    if (kick.code !== 0) throw new CliError(`Starting canopy-node failed: launchctl said: ${said(kick)}`);
    return ['Started canopy-node'];
  }

  async stop(): Promise<string[]> {
    await requireInstalled(this.file);
    // KeepAlive would start a killed daemon again: stopping means unloading until the next start or login.
    const unloaded = await this.unload();
    return [
      unloaded
        ? 'Stopped canopy-node (it starts again at your next login or with `canopy-node start`)'
        : 'canopy-node was not running',
    ];
  }

  async restart(): Promise<string[]> {
    await requireInstalled(this.file);
    if (!(await this.loaded())) {
      await this.load();
      return ['Started canopy-node'];
    }
    const kick = await this.launchctl('kickstart', '-k', this.target);
    if (kick.code !== 0) throw new CliError(`Restarting canopy-node failed: launchctl said: ${said(kick)}`);
    return ['Restarted canopy-node'];
  }

  async state(): Promise<ServiceState> {
    const current = await readIfExists(this.file);
    const installed = current !== null;
    const printed = await this.launchctl('print', this.target);
    const loaded = printed.code === 0;
    const state = /^\s*state = (.+)$/m.exec(printed.stdout)?.[1]?.trim();
    const pid = /^\s*pid = (\d+)$/m.exec(printed.stdout)?.[1];
    return {
      installed,
      enabled: installed,
      running: loaded && state === 'running',
      detail: loaded ? `loaded, state = ${state ?? 'unknown'}${pid ? `, pid = ${pid}` : ''}` : 'not loaded',
      file: this.file,
      outdated: installed && current !== renderPlist(this.options.launch, this.options.logDir),
    };
  }
}
