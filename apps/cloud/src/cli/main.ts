import { parseArgs } from 'node:util';
import { Email } from '@canopy/protocol';
import { createAccounts } from '../app';
import { BackupError, pgDump } from '../backup/pg-dump';
import { type Config, ConfigError, loadConfig, redactUrl } from '../config';
import { callControlSocket } from '../control/socket';
import { DataDirBusyError } from '../db/lock';
import { MemoryEngine } from '../engine';
import { openConfiguredDatabase, StartupError, startCloud } from '../server';
import { VERSION } from '../version';
import { CliError, readPassword } from './password-input';
import { rotateKeysCli } from './rotate-keys';

const HELP = `canopy-cloud ${VERSION}: the Canopy cloud (API, dashboard, gateways)

Usage:
  canopy-cloud serve                   start the server (applies pending migrations first)
  canopy-cloud migrate [--no-backup]   pg_dump the database to BACKUP_DIR, then apply pending
                                       migrations and exit; no migration when the backup fails
  canopy-cloud create-admin --email E  create a super_admin (or promote an existing account);
                                       the password is asked for, or read from stdin when piped
  canopy-cloud rotate-keys [--batch N] [--dry-run]
                                       re-encrypt dongle tokens on older master keys with the
                                       newest (DONGLE_TOKEN_MASTER_KEY_V<n>); resumable
  canopy-cloud --version | --help

Configuration comes from the environment (see docs/configuration.md): PORT, HOST, PUBLIC_URL,
CANOPY_DATA_DIR, DATABASE_URL, REDIS_URL, SMTP_URL, MAIL_FROM, LOG_LEVEL, ...
Without DATABASE_URL the database is embedded (PGlite in CANOPY_DATA_DIR, default ./data);
without REDIS_URL the stream engine runs in-process.
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve();
      case 'migrate':
        return await migrate(rest);
      case 'create-admin':
        return await createAdmin(rest);
      case 'rotate-keys':
        return await rotateKeysCli(rest);
      case '--version':
      case '-v':
        process.stdout.write(`${VERSION}\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        return 0;
      default:
        process.stderr.write(`Unknown command "${command}".\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (err instanceof StartupError) {
      process.stderr.write(`canopy-cloud ${command}: ${err.message}\n`);
      return 1;
    }
    if (err instanceof CliError) {
      process.stderr.write(`${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof DataDirBusyError) {
      process.stderr.write(`${err.message}.\nStop that process first, or point CANOPY_DATA_DIR elsewhere.\n`);
      return 1;
    }
    process.stderr.write(
      `canopy-cloud ${command}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}

async function serve(): Promise<number> {
  const config = loadConfig();
  const cloud = await startCloud(config);
  process.on('uncaughtException', (err) => {
    cloud.log.fatal({ err }, 'uncaught exception; exiting');
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) =>
    cloud.log.error({ err: reason }, 'unhandled promise rejection'),
  );
  process.stdout.write(
    banner(config, cloud.database.kind, cloud.engine.kind, cloud.keyring.source.kind, cloud.firstRun),
  );
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        cloud.log.warn({ signal }, 'second signal; exiting now');
        process.exit(1);
      }
      stopping = true;
      cloud.log.info({ signal }, 'shutting down');
      cloud.close().then(resolve, (err) => {
        cloud.log.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

function banner(config: Config, db: string, engine: string, keys: string, firstRun: boolean): string {
  const lines = [
    '',
    `Canopy cloud is running: ${config.publicUrl}`,
    db === 'pglite'
      ? `  database: embedded (PGlite) in ${config.dataDir}/pglite; set DATABASE_URL to use PostgreSQL`
      : '  database: PostgreSQL (DATABASE_URL)',
    engine === 'memory'
      ? '  streams:  in-process engine; set REDIS_URL to use Redis'
      : '  streams:  Redis (REDIS_URL)',
    config.smtpUrl
      ? '  mail:     SMTP (SMTP_URL)'
      : `  mail:     written to ${config.dataDir}/mail; set SMTP_URL to send it`,
    keys === 'file'
      ? `  keys:     dongle tokens encrypted with a key file in ${config.dataDir}/keys; set DONGLE_TOKEN_MASTER_KEY_V1 in production`
      : '  keys:     dongle tokens encrypted with DONGLE_TOKEN_MASTER_KEY_V*',
  ];
  if (firstRun) {
    lines.push(
      '',
      'No accounts yet. Create the first admin (from the Canopy folder, in another terminal):',
      '  npx canopy-cloud create-admin --email you@example.com',
    );
  }
  return `${lines.join('\n')}\n\n`;
}

async function migrate(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'no-backup': { type: 'boolean' } }, strict: true });
  const config = loadConfig();
  if (!config.databaseUrl) {
    process.stdout.write(
      `Embedded database (PGlite in ${config.dataDir}/pglite): no pre-migration backup is taken; stop the server and copy ${config.dataDir} to keep one.\n`,
    );
  } else if (values['no-backup']) {
    process.stdout.write('No pre-migration backup (--no-backup).\n');
  } else {
    try {
      const backup = await pgDump({
        databaseUrl: config.databaseUrl,
        dir: config.backupDir,
        label: 'pre-migrate',
      });
      process.stdout.write(`Backup before migrating: ${backup.file} (${backup.bytes} bytes)\n`);
    } catch (err) {
      if (!(err instanceof BackupError)) throw err;
      throw new CliError(
        `canopy-cloud migrate: the backup of ${redactUrl(config.databaseUrl)} failed, so nothing was migrated: ${err.message}\n` +
          'Fix the cause (BACKUP_DIR must be writable, pg_dump installed and not older than the server), or run `canopy-cloud migrate --no-backup` to migrate without a backup.',
        1,
      );
    }
  }
  const database = await openConfiguredDatabase(config);
  try {
    await database.migrate();
    process.stdout.write(`Migrations applied (${database.kind}).\n`);
    return 0;
  } finally {
    await database.close();
  }
}

type CreateAdminOutcome = 'created' | 'promoted' | 'unchanged';

async function createAdmin(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' } }, strict: true });
  const email = Email.safeParse(values.email ?? '');
  if (!email.success) throw new CliError('Usage: canopy-cloud create-admin --email you@example.com', 2);
  const config = loadConfig();
  const password = await readPassword(`Password for ${email.data}: `, true);

  let outcome: CreateAdminOutcome | undefined;
  let publicUrl = config.publicUrl;
  if (!config.databaseUrl) {
    // The embedded database belongs to the running server, if any: ask it to do the work.
    const answer = await callControlSocket(config.dataDir, 'create-admin', { email: email.data, password });
    if (answer && answer.status !== 200)
      throw new CliError(`The server refused: ${String(answer.body.message)}`);
    if (answer) {
      outcome = answer.body.outcome as CreateAdminOutcome;
      // The server knows the address it serves on; this process may have a different PORT.
      publicUrl = String(answer.body.public_url ?? publicUrl);
    }
  }
  if (!outcome) outcome = await createAdminDirect(config, email.data, password);

  const said = {
    created: `Created super_admin ${email.data}.`,
    promoted: `${email.data} already had an account: it is now a super_admin (its password is unchanged).`,
    unchanged: `${email.data} is already a super_admin; nothing changed (its password is unchanged).`,
  }[outcome];
  process.stdout.write(`${said}\nLog in at ${publicUrl}/login\n`);
  return 0;
}

async function createAdminDirect(
  config: Config,
  email: string,
  password: string,
): Promise<CreateAdminOutcome> {
  const database = await openConfiguredDatabase(config);
  const engine = new MemoryEngine();
  try {
    await database.migrate();
    const { accounts } = createAccounts(config, database.db, engine, () => new Date());
    const result = await accounts.createAdmin(email, password, {
      actorUserId: null,
      ip: null,
      userAgent: 'canopy-cloud create-admin',
    });
    return result.outcome;
  } finally {
    await engine.close();
    await database.close();
  }
}
