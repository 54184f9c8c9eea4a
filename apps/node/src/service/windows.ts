import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError } from '../cli/errors';
import { type RunCommand, said } from './run';
import type { LaunchSpec, ServiceManager, ServiceState } from './types';

export const WINDOWS_SERVICE_NAME = 'CanopyNode';
/** node-windows names the service after its name, lower-cased, plus ".exe". */
export const WINDOWS_SERVICE_ID = 'canopynode.exe';
/** Service recovery (spec 000 §4): restart after 5 s, 30 s, 60 s; the failure count resets after a day. */
export const WINDOWS_RECOVERY = { resetAfterS: 86_400, restartDelaysMs: [5000, 30_000, 60_000] } as const;

/** The options given to node-windows' `Service`. */
export interface WindowsServiceDefinition {
  name: string;
  description: string;
  script: string;
  scriptOptions: string;
  execPath: string;
  env: Array<{ name: string; value: string }>;
  /** node-windows' own wrapper restarts: 5 s apart, not growing, 3 at most (the SCM's recovery follows). */
  wait: number;
  grow: number;
  maxRestarts: number;
  logpath: string;
  workingDirectory: string;
}

export function windowsServiceDefinition(launch: LaunchSpec, logDir: string): WindowsServiceDefinition {
  return {
    name: WINDOWS_SERVICE_NAME,
    description: 'Canopy node: connects this machine to your Canopy cloud (canopy-node daemon)',
    script: launch.script,
    scriptOptions: 'daemon',
    execPath: launch.node,
    env: Object.entries(launch.env).map(([name, value]) => ({ name, value })),
    wait: 5,
    grow: 0,
    maxRestarts: 3,
    logpath: logDir,
    workingDirectory: path.dirname(logDir),
  };
}

/** `sc.exe failure` arguments carrying WINDOWS_RECOVERY. */
export function windowsRecoveryArgs(): string[] {
  const actions = WINDOWS_RECOVERY.restartDelaysMs.map((ms) => `restart/${ms}`).join('/');
  return ['failure', WINDOWS_SERVICE_ID, 'reset=', String(WINDOWS_RECOVERY.resetAfterS), 'actions=', actions];
}

/** Where node-windows writes its wrapper's definition: <script folder>\daemon\<id>.xml. */
export function windowsWrapperXml(script: string): string {
  return path.win32.join(path.win32.dirname(script), 'daemon', WINDOWS_SERVICE_ID.replace(/\.exe$/, '.xml'));
}

/** Empties every <password> element of the wrapper's XML (a file that is not there is left alone). */
export async function scrubServicePassword(xmlFile: string): Promise<boolean> {
  const xml = await readFile(xmlFile, 'utf8').catch(() => null);
  if (xml === null) return false;
  const scrubbed = xml.replace(/<password>[\s\S]*?<\/password>/g, '<password></password>');
  if (scrubbed !== xml) await writeFile(xmlFile, scrubbed);
  return scrubbed !== xml;
}

type NodeWindowsService = {
  exists: boolean;
  logOnAs: { account: string | null; password: string | null; domain: string | null };
  on(event: string, handler: (arg?: unknown) => void): void;
  install(): void;
  uninstall(): void;
};

export interface WindowsOptions {
  launch: LaunchSpec;
  run: RunCommand;
  logDir: string;
  /** The account the service runs as (the installing user), and its password, asked for at install. */
  account: () => Promise<{ domain: string; user: string; password: string }>;
}

/**
 * A Windows service through node-windows (spec 000 §2.2), which is an optional dependency imported only on
 * win32. It runs as the installing user, so it reads the same credential store; the SCM restarts it after a
 * failure (5 s, 30 s, 60 s, reset after a day). Its logs go to %USERPROFILE%\.canopy-node\logs.
 */
export class WindowsService implements ServiceManager {
  readonly kind = 'Windows service';
  readonly file: string;

  constructor(private readonly options: WindowsOptions) {
    this.file = `${WINDOWS_SERVICE_NAME} (${WINDOWS_SERVICE_ID})`;
  }

  private async service(): Promise<NodeWindowsService> {
    let module: { Service: new (definition: WindowsServiceDefinition) => NodeWindowsService };
    try {
      const name = 'node-windows';
      module = (await import(name)) as typeof module;
    } catch {
      throw new CliError(
        'node-windows is not installed beside canopy-node. Reinstall canopy-node with npm on this Windows ' +
          'machine (it is an optional dependency installed only on Windows).',
      );
    }
    return new module.Service(windowsServiceDefinition(this.options.launch, this.options.logDir));
  }

  private event(svc: NodeWindowsService, start: () => void, ok: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      for (const name of ok) svc.on(name, () => resolve(name));
      svc.on('error', (err) =>
        reject(new CliError(`The Windows service manager refused: ${String(err)} (run it as Administrator)`)),
      );
      start();
    });
  }

  async install(): Promise<string[]> {
    const svc = await this.service();
    const account = await this.options.account();
    svc.logOnAs.domain = account.domain;
    svc.logOnAs.account = account.user;
    svc.logOnAs.password = account.password;
    const outcome = await this.event(svc, () => svc.install(), ['install', 'alreadyinstalled']);
    // Windows keeps the account's credentials itself once the service exists; node-windows leaves the
    // password in its wrapper's XML beside the script, so it is removed from there.
    await scrubServicePassword(windowsWrapperXml(this.options.launch.script));
    const recovery = await this.options.run('sc.exe', windowsRecoveryArgs());
    const done = [
      outcome === 'install'
        ? `Installed the Windows service ${WINDOWS_SERVICE_NAME}, running as ${account.domain}\\${account.user}`
        : `The Windows service ${WINDOWS_SERVICE_NAME} was already installed`,
      recovery.code === 0
        ? 'Recovery: restart after 5 s, 30 s and 60 s; the count resets after a day'
        : `Could not set the recovery actions (sc.exe said: ${said(recovery)})`,
    ];
    done.push(...(await this.start()));
    return done;
  }

  async uninstall(): Promise<string[]> {
    const svc = await this.service();
    if (!svc.exists) return [`canopy-node is not installed as a ${this.kind}; nothing to remove`];
    await this.event(svc, () => svc.uninstall(), ['uninstall', 'alreadyuninstalled']);
    return [`Stopped and removed the Windows service ${WINDOWS_SERVICE_NAME}`];
  }

  private async sc(args: string[], what: string): Promise<string[]> {
    const result = await this.options.run('sc.exe', args);
    if (result.code !== 0) throw new CliError(`${what} failed: sc.exe said: ${said(result)}`);
    return [`${what}: done`];
  }

  start(): Promise<string[]> {
    return this.sc(['start', WINDOWS_SERVICE_ID], 'Starting canopy-node');
  }

  stop(): Promise<string[]> {
    return this.sc(['stop', WINDOWS_SERVICE_ID], 'Stopping canopy-node');
  }

  async restart(): Promise<string[]> {
    await this.options.run('sc.exe', ['stop', WINDOWS_SERVICE_ID]);
    return this.start();
  }

  async state(): Promise<ServiceState> {
    const query = await this.options.run('sc.exe', ['query', WINDOWS_SERVICE_ID]);
    const installed = query.code === 0;
    const state = /STATE\s*:\s*\d+\s+(\w+)/.exec(query.stdout)?.[1];
    return {
      installed,
      enabled: installed,
      running: state === 'RUNNING',
      detail: installed ? `state ${state ?? 'unknown'}` : 'not installed',
      file: this.file,
      // node-windows keeps its definition in its own folder; `canopy-node install` again replaces nothing.
      outdated: false,
    };
  }
}
