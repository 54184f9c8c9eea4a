import http from 'node:http';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { type Config, loadConfig } from '../config';
import { controlSocketPath } from '../control/socket';
import type { RotateKeysLine } from '../keys/control';
import { loadKeyring } from '../keys/keyring';
import {
  type RotationFailure,
  type RotationProgress,
  type RotationSummary,
  rotateKeys,
} from '../keys/rotate';
import { createLogger } from '../log';
import { openConfiguredDatabase } from '../server';
import { CliError } from './password-input';

const USAGE = 'Usage: canopy-cloud rotate-keys [--batch N] [--dry-run]';
const INTERRUPTED = 130;

/**
 * `canopy-cloud rotate-keys`: re-encrypts the dongle tokens on older master keys under the newest one. On the
 * embedded database a running server does it (it owns the data folder); otherwise this process does.
 * Progress goes to stdout, JSON log lines to stderr; no token bytes are printed or logged.
 */
export async function rotateKeysCli(args: string[]): Promise<number> {
  let values: { batch: string; 'dry-run': boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: { batch: { type: 'string', default: '100' }, 'dry-run': { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${USAGE}`, 2);
  }
  const batch = /^[1-9][0-9]*$/.test(values.batch) ? Number(values.batch) : Number.NaN;
  if (!(batch >= 1 && batch <= 10_000))
    throw new CliError(`--batch must be a whole number from 1 to 10000.\n${USAGE}`, 2);
  const dryRun = values['dry-run'];
  const config = loadConfig();
  const report = reporter();

  const stop = new AbortController();
  let signals = 0;
  const onSigint = () => {
    signals++;
    if (signals > 1) process.exit(INTERRUPTED);
    process.stderr.write(
      '\nStopping after the current batch (Ctrl-C again to quit now; rerun to continue)…\n',
    );
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const viaServer = config.databaseUrl
      ? undefined
      : await viaControlSocket(config, batch, dryRun, report, stop.signal);
    const summary = viaServer ?? (await direct(config, batch, dryRun, report, stop.signal));
    return report.summary(summary);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

type Reporter = ReturnType<typeof reporter>;

function reporter() {
  return {
    progress(p: RotationProgress) {
      process.stdout.write(`rotated ${p.rotated}/${p.total}${p.failed ? ` (${p.failed} failed)` : ''} …\n`);
    },
    failure(f: RotationFailure) {
      process.stderr.write(`failed: dongle token ${f.id} (key version ${f.keyVersion}): ${f.code}\n`);
    },
    summary(s: RotationSummary): number {
      const from = s.fromVersions
        .map((v) => `V${v.version}: ${v.tokens}${v.keyHeld ? '' : ' (no key!)'}`)
        .join(', ');
      if (s.dryRun) {
        process.stdout.write(
          s.total === 0
            ? `Dry run: every dongle token is already on key version ${s.toVersion}; nothing would change.\n`
            : `Dry run: ${s.total} dongle token(s) would be re-encrypted to key version ${s.toVersion} (${from}).\n`,
        );
        return 0;
      }
      const failed = s.failed.length;
      process.stdout.write(
        `${s.interrupted ? 'Stopped early' : 'Done'}: rotated ${s.rotated} of ${s.total} dongle token(s) to key version ${s.toVersion}` +
          `${from ? ` (from ${from})` : ''}, ${failed} failed, ${s.remaining} left on older key versions.\n`,
      );
      if (s.interrupted) process.stdout.write('Run `canopy-cloud rotate-keys` again to continue.\n');
      else if (failed > 0)
        process.stdout.write(
          'The failed tokens were left on their old key (see the lines above): keep that key set, and re-pair those dongles if their tokens cannot be recovered.\n',
        );
      else if (s.remaining === 0 && s.fromVersions.length > 0)
        process.stdout.write(
          `No token uses an older key any more: keys older than V${s.toVersion} may now be removed.\n`,
        );
      if (s.interrupted) return INTERRUPTED;
      return failed > 0 ? 1 : 0;
    },
  };
}

async function direct(
  config: Config,
  batch: number,
  dryRun: boolean,
  report: Reporter,
  signal: AbortSignal,
): Promise<RotationSummary> {
  const log = createLogger(config.logLevel, pino.destination({ fd: 2, sync: true }));
  const database = await openConfiguredDatabase(config);
  try {
    await database.migrate();
    const keyring = loadKeyring(config, log);
    return await rotateKeys(database.db, keyring, {
      batchSize: batch,
      dryRun,
      log,
      signal,
      onProgress: report.progress,
      onFailure: report.failure,
    });
  } finally {
    await database.close();
  }
}

/** Undefined when no server listens on the data folder's control socket. */
function viaControlSocket(
  config: Config,
  batch: number,
  dryRun: boolean,
  report: Reporter,
  signal: AbortSignal,
): Promise<RotationSummary | undefined> {
  return new Promise((resolve, reject) => {
    let summary: RotationSummary | undefined;
    let last: RotationProgress | undefined;
    const req = http.request(
      {
        socketPath: controlSocketPath(config.dataDir),
        path: '/rotate-keys',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const message = (() => {
              try {
                return String(JSON.parse(text).message);
              } catch {
                return text;
              }
            })();
            reject(
              new CliError(
                res.statusCode === 404
                  ? 'The running server does not know rotate-keys (an older version?): restart it, then run this again.'
                  : `The server refused: ${message}`,
              ),
            );
          });
          return;
        }
        process.stdout.write('(carried out by the running server)\n');
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
            const line = JSON.parse(pending.slice(0, nl)) as RotateKeysLine;
            pending = pending.slice(nl + 1);
            if ('progress' in line) {
              last = line.progress;
              report.progress(line.progress);
            } else if ('failure' in line) report.failure(line.failure);
            else if ('summary' in line) summary = line.summary;
            else if ('error' in line)
              reject(new CliError(`canopy-cloud rotate-keys: ${line.error}`, line.exit_code ?? 1));
          }
        });
        res.on('end', () =>
          summary ? resolve(summary) : reject(new CliError('The server ended the run without a summary.')),
        );
        res.on('error', reject);
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? resolve(undefined) : reject(err),
    );
    // Ctrl-C: hang up; the server stops after the batch it is on (each batch is one transaction).
    signal.addEventListener('abort', () => {
      req.destroy();
      const sofar = last ? `rotated ${last.rotated}/${last.total} so far, ${last.failed} failed; ` : '';
      reject(
        new CliError(
          `Stopped: the server finishes the batch it is on (${sofar}each batch is one transaction). Run \`canopy-cloud rotate-keys\` again to continue.`,
          INTERRUPTED,
        ),
      );
    });
    req.end(JSON.stringify({ batch, dry_run: dryRun }));
  });
}
