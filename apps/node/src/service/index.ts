import { existsSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError, EXIT } from '../cli/errors';
import { SYSTEM_USER, Systemd } from './linux';
import { Launchd } from './macos';
import { type RunCommand, runCommand, said } from './run';
import type { LaunchSpec, ServiceKind, ServiceManager } from './types';
import { WindowsService } from './windows';

export { renderUnit, SYSTEM_USER, Systemd, systemdWord, UNIT_NAME } from './linux';
export { LAUNCHD_LABEL, Launchd, renderPlist } from './macos';
export type { CommandResult, RunCommand } from './run';
export { runCommand } from './run';
export type { LaunchSpec, ServiceKind, ServiceManager, ServiceState } from './types';
export {
  scrubServicePassword,
  WINDOWS_RECOVERY,
  WINDOWS_SERVICE_ID,
  WINDOWS_SERVICE_NAME,
  windowsRecoveryArgs,
  windowsServiceDefinition,
  windowsWrapperXml,
} from './windows';

/**
 * What the service runs: this node binary and this install's bin script, by absolute path (a service has no
 * shell PATH). An upgrade of the package in place keeps both paths; a different node (nvm, a new major)
 * needs `canopy-node install` again, which `canopy-node status` points out.
 */
export function launchSpec(
  kind: ServiceKind,
  home: string,
  defaultHome: string,
  script = process.argv[1],
): LaunchSpec {
  if (!script || !existsSync(script)) {
    throw new CliError('Cannot tell where canopy-node is installed (no script path): run it by its command.');
  }
  const env: Record<string, string> = { CANOPY_NODE_SERVICE: kind };
  if (path.resolve(home) !== path.resolve(defaultHome)) env.CANOPY_NODE_HOME = path.resolve(home);
  return { node: process.execPath, script: realpathSync(script), env };
}

export interface ServiceContext {
  /** CANOPY_NODE_HOME (resolved). */
  home: string;
  platform?: NodeJS.Platform;
  run?: RunCommand;
  /** `--system` (Linux only): a system unit running as `runAs`. */
  system?: boolean;
  runAs?: string;
  /** Windows: the account password, asked for without echo. */
  askPassword?: (prompt: string) => Promise<string>;
  env?: Record<string, string | undefined>;
}

/**
 * `install --system`: only root may write a system unit; the service runs as a dedicated account (made here
 * when missing), which must be set up (its own agent token, in its own encrypted file) before it can run.
 */
export async function prepareSystemAccount(
  run: RunCommand,
  user: string,
  home: string,
  nodeHome: string,
  script: string,
): Promise<string[]> {
  if (process.getuid?.() !== 0) {
    throw new CliError('A system service is installed by root: run `sudo canopy-node install --system`.');
  }
  const done: string[] = [];
  if (user === 'root')
    done.push('Warning: the service will run as root (--run-as root); tasks run with full rights');
  if ((await run('id', ['-u', user])).code !== 0) {
    const made = await run('useradd', [
      '--system',
      '--create-home',
      '--home-dir',
      home,
      '--shell',
      '/usr/sbin/nologin',
      user,
    ]);
    if (made.code !== 0) throw new CliError(`Cannot create the account ${user}: useradd said: ${said(made)}`);
    done.push(`Created the system account ${user} (home ${home})`);
  }
  if (!existsSync(path.join(nodeHome, 'config.json'))) {
    throw new CliError(
      `The account ${user} is not set up yet. Set it up first (the key is read without echo):\n` +
        `  sudo -u ${user} HOME=${home} CANOPY_NODE_CREDENTIAL_STORE=file ${process.execPath} ${script} setup\n` +
        'then run `sudo canopy-node install --system` again.',
      EXIT.USAGE,
    );
  }
  if (/^\/(root|home)\//.test(script)) {
    done.push(
      `Warning: ${script} is in a home folder; make sure ${user} can read it (or install canopy-node globally)`,
    );
  }
  return done;
}

/** The service manager of this platform, for this node's home. */
export function serviceManager(ctx: ServiceContext): ServiceManager {
  const platform = ctx.platform ?? process.platform;
  const run = ctx.run ?? runCommand;
  const env = ctx.env ?? process.env;
  const userHome = os.homedir();
  const userName = os.userInfo().username;
  if (ctx.system && platform !== 'linux') {
    throw new CliError('--system is for Linux servers (a systemd system unit).', EXIT.USAGE);
  }
  switch (platform) {
    case 'linux': {
      if (ctx.system) {
        const user = ctx.runAs ?? SYSTEM_USER;
        const home = user === 'root' ? '/root' : `/var/lib/${user}`;
        const nodeHome = path.join(home, '.canopy-node');
        const launch = launchSpec('systemd', nodeHome, '');
        launch.env.HOME = home;
        launch.env.CANOPY_NODE_HOME = nodeHome;
        // A system account has no keychain: its agent token is in the encrypted file.
        launch.env.CANOPY_NODE_CREDENTIAL_STORE = 'file';
        return new Systemd({
          launch,
          run,
          userHome,
          userName,
          system: { user, home },
          prepare: () => prepareSystemAccount(run, user, home, nodeHome, launch.script),
        });
      }
      return new Systemd({
        launch: launchSpec('systemd', ctx.home, path.join(userHome, '.canopy-node')),
        run,
        userHome,
        xdgConfigHome: env.XDG_CONFIG_HOME,
        userName,
      });
    }
    case 'darwin':
      return new Launchd({
        launch: launchSpec('launchd', ctx.home, path.join(userHome, '.canopy-node')),
        run,
        userHome,
        uid: os.userInfo().uid,
        logDir: path.join(ctx.home, 'logs'),
      });
    case 'win32':
      return new WindowsService({
        launch: launchSpec('windows', ctx.home, path.join(userHome, '.canopy-node')),
        run,
        logDir: path.join(ctx.home, 'logs'),
        account: async () => {
          const domain = env.USERDOMAIN ?? os.hostname();
          const user = userName;
          if (!ctx.askPassword) throw new CliError('The Windows service needs your account password.');
          const password = await ctx.askPassword(
            `Windows password of ${domain}\\${user} (the service runs as you; it is given to Windows only): `,
          );
          return { domain, user, password };
        },
      });
    default:
      throw new CliError(
        `Service mode is not supported on ${platform}: run \`canopy-node daemon\` under your own supervisor.`,
      );
  }
}
