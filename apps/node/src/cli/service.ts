import { PromptCancelled, promptHidden } from '@canopy/terminal';
import { loadToken } from '../credential';
import { type ServiceContext, type ServiceManager, serviceManager } from '../service';
import { type CliContext, credentialOptions, openHome } from './context';
import { CliError, EXIT } from './errors';
import { readHealth } from './status';

export type ServiceCommand = 'install' | 'uninstall' | 'start' | 'stop' | 'restart';

export interface ServiceCommandOptions {
  system: boolean;
  runAs?: string;
  /** Tests: the service manager to use instead of this platform's. */
  manager?: ServiceManager;
  /** How long `install`/`start`/`restart` wait for the daemon to say "connected" (default 20 s). */
  waitMs?: number;
}

const WAIT_MS = 20_000;

/** `canopy-node install | uninstall | start | stop | restart`: says what it did, or why it could not. */
export async function serviceCommand(
  ctx: CliContext,
  command: ServiceCommand,
  options: ServiceCommandOptions,
): Promise<number> {
  const manager =
    options.manager ?? serviceManager(managerContext(ctx, { system: options.system, runAs: options.runAs }));
  const say = (line: string) => ctx.stdout.write(`${line}\n`);
  if (command === 'install' && !options.system) {
    // A user service runs this user's node: it must be set up, or it would fail and restart forever.
    const { config, exists } = await openHome(ctx);
    const token = exists ? await loadToken(ctx.env.home, credentialOptions(ctx)).catch(() => null) : null;
    if (!config.nodeId || !token) {
      throw new CliError(
        'This machine is not set up yet: run `canopy-node setup <KEY>` first (an enrollment key from the ' +
          'Nodes page of your Canopy cloud), then `canopy-node install`.',
        EXIT.USAGE,
      );
    }
  }
  const lines = await manager[command]();
  for (const line of lines) say(line);
  if (command === 'install' || command === 'start' || command === 'restart') {
    if (options.system) {
      say('Check it with: sudo systemctl status canopy-node');
      return EXIT.OK;
    }
    const connected = await waitConnected(ctx, options.waitMs ?? WAIT_MS);
    say(
      connected === 'connected'
        ? 'canopy-node is running and connected to the cloud.'
        : `canopy-node does not report "connected" yet (${connected}); see \`canopy-node status\` and \`canopy-node logs\`.`,
    );
  }
  if (command === 'uninstall') {
    say(
      `Your configuration, credential and logs stay in ${ctx.env.home}; delete that folder to remove them too.`,
    );
  }
  return EXIT.OK;
}

export function managerContext(ctx: CliContext, extra: Partial<ServiceContext> = {}): ServiceContext {
  return {
    home: ctx.env.home,
    askPassword: async (prompt) => {
      try {
        return await promptHidden(prompt);
      } catch (err) {
        if (err instanceof PromptCancelled) throw new CliError('Cancelled.');
        throw err;
      }
    },
    ...extra,
  };
}

/** Polls the daemon's health endpoint until it says connected (or the time is up); returns the last state. */
async function waitConnected(ctx: CliContext, waitMs: number): Promise<string> {
  // The config is read once: the daemon does not change its health port or node id while we wait.
  const { config } = await openHome({ ...ctx, stderr: { write: () => true } });
  if (config.healthPort === 0) return 'its health endpoint is off (healthPort 0)';
  const deadline = Date.now() + waitMs;
  let last = 'no answer from its health endpoint';
  for (;;) {
    const health = await readHealth(config.healthPort);
    if (health) {
      last = health.connection;
      if (health.connection === 'connected' && (!health.nodeId || health.nodeId === config.nodeId)) {
        return 'connected';
      }
    }
    if (Date.now() >= deadline) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
