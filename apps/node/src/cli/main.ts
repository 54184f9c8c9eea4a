import { parseArgs } from 'node:util';
import { ConfigError } from '../config';
import { CredentialError } from '../credential';
import { NotSetUpError, runDaemon } from '../daemon';
import { AlreadyRunningError, VERSION } from '../system';
import { decide, pending } from './approvals';
import { type CliContext, credentialOptions, openHome } from './context';
import { parseEnv } from './env';
import { CliError, EXIT } from './errors';
import { COMMAND_HELP, MAIN_HELP, SERVICE_COMMANDS } from './help';
import { logs } from './logs';
import { runMeshOnly } from './mesh';
import { type ServiceCommand, serviceCommand } from './service';
import { isSetUp, setup } from './setup';
import { status } from './status';

type Streams = Pick<CliContext, 'stdout' | 'stderr'>;

/** Runs one command and resolves with its exit code (see EXIT). Never throws. */
export async function main(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  streams: Streams = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      const topic = command === 'help' ? rest[0] : undefined;
      streams.stdout.write(topic && COMMAND_HELP[topic] ? COMMAND_HELP[topic] : MAIN_HELP);
      return EXIT.OK;
    }
    if (command === '--version' || command === '-v' || command === 'version') {
      streams.stdout.write(`${VERSION}\n`);
      return EXIT.OK;
    }
    if (!COMMAND_HELP[command]) {
      throw new CliError(
        `Unknown command "${command}". Run \`canopy-node --help\` for the list.`,
        EXIT.USAGE,
      );
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      streams.stdout.write(COMMAND_HELP[command]);
      return EXIT.OK;
    }
    const ctx: CliContext = { env: parseEnv(env, Boolean(process.stdout.isTTY)), ...streams };
    return await run(ctx, command, rest);
  } catch (err) {
    return report(err, command, streams);
  }
}

async function run(ctx: CliContext, command: string, args: string[]): Promise<number> {
  if ((SERVICE_COMMANDS as readonly string[]).includes(command)) {
    const { values } = parse(
      command,
      args,
      command === 'install'
        ? { system: { type: 'boolean' }, 'run-as': { type: 'string' } }
        : { system: { type: 'boolean' } },
      0,
    );
    if (values['run-as'] !== undefined && !values.system) {
      throw new CliError('--run-as goes with --system (the account a system service runs as).', EXIT.USAGE);
    }
    return await serviceCommand(ctx, command as ServiceCommand, {
      system: Boolean(values.system),
      runAs: text(values['run-as']),
    });
  }
  switch (command) {
    case 'setup': {
      const { values, positionals } = parse(
        command,
        args,
        { cloud: { type: 'string' }, name: { type: 'string' } },
        1,
      );
      await setup(ctx, { key: positionals[0], cloud: text(values.cloud), name: text(values.name) });
      return EXIT.OK;
    }
    case 'connect': {
      const { values, positionals } = parse(
        command,
        args,
        { cloud: { type: 'string' }, name: { type: 'string' } },
        1,
      );
      const opened = await openHome(ctx);
      let config = opened.config;
      if (!(await isSetUp(ctx, config))) {
        if (positionals[0] === undefined && process.stdin.isTTY !== true) {
          throw new NotSetUpError();
        }
        config = await setup(ctx, {
          key: positionals[0],
          cloud: text(values.cloud),
          name: text(values.name),
        });
      } else if (positionals[0] !== undefined) {
        ctx.stderr.write(
          `canopy-node: already set up as node ${config.nodeId}; the key was not used (it stays valid). To register again, run canopy-node setup.\n`,
        );
      }
      return await runDaemon({
        home: ctx.env.home,
        config,
        mode: 'interactive',
        credential: credentialOptions(ctx),
        color: ctx.env.color,
        notices: opened.notices,
        discovery: ctx.env.discovery,
        mesh: ctx.env.mesh,
      });
    }
    case 'daemon': {
      parse(command, args, {}, 0);
      const { config, notices } = await openHome(ctx);
      return await runDaemon({
        home: ctx.env.home,
        config,
        mode: 'daemon',
        credential: credentialOptions(ctx),
        notices,
        discovery: ctx.env.discovery,
        mesh: ctx.env.mesh,
      });
    }
    case 'mesh':
      parse(command, args, {}, 0);
      return await runMeshOnly(ctx);
    case 'status':
      parse(command, args, {}, 0);
      return await status(ctx);
    case 'logs': {
      const { values } = parse(
        command,
        args,
        {
          follow: { type: 'boolean', short: 'f' },
          lines: { type: 'string', short: 'n' },
          json: { type: 'boolean' },
        },
        0,
      );
      const lines = values.lines === undefined ? 50 : Number(values.lines);
      if (!Number.isInteger(lines) || lines < 0) {
        throw new CliError(`-n takes a whole number of lines (got "${values.lines}").`, EXIT.USAGE);
      }
      return await logs(ctx, { lines, follow: Boolean(values.follow), json: Boolean(values.json) });
    }
    case 'pending':
      parse(command, args, {}, 0);
      return await pending(ctx);
    case 'approve':
    case 'reject': {
      const { positionals } = parse(command, args, {}, 1);
      if (!positionals[0])
        throw new CliError(`Usage: canopy-node ${command} <ID> (see canopy-node pending).`, EXIT.USAGE);
      return await decide(ctx, command, positionals[0]);
    }
    default:
      throw new CliError(`Unknown command "${command}".`, EXIT.USAGE);
  }
}

const text = (value: string | boolean | undefined) => (typeof value === 'string' ? value : undefined);

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parse(command: string, args: string[], options: Options, maxPositionals: number) {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    throw new CliError(
      `${(err as Error).message.replace(/\. To specify.*$/s, '.')}\nSee canopy-node ${command} --help.`,
      EXIT.USAGE,
    );
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new CliError(
      `Unexpected argument "${parsed.positionals[maxPositionals]}". See canopy-node ${command} --help.`,
      EXIT.USAGE,
    );
  }
  return parsed;
}

function report(err: unknown, command: string | undefined, streams: Streams): number {
  const say = (message: string) =>
    streams.stderr.write(`canopy-node${command ? ` ${command}` : ''}: ${message}\n`);
  if (err instanceof CliError) {
    say(err.message);
    return err.exitCode;
  }
  if (err instanceof NotSetUpError) {
    say(err.message);
    return EXIT.USAGE;
  }
  if (err instanceof ConfigError) {
    say(err.message);
    return EXIT.USAGE;
  }
  if (err instanceof CredentialError) {
    say(err.message);
    return EXIT.FAILURE;
  }
  if (err instanceof AlreadyRunningError) {
    say(`${err.message}: stop it first, or use another CANOPY_NODE_HOME`);
    return EXIT.FAILURE;
  }
  say(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return EXIT.FAILURE;
}
