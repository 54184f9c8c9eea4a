import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pgConnectionEnv } from './pg-env';

/** A backup that could not be taken; the message says why, never the password. */
export class BackupError extends Error {
  override name = 'BackupError';
}

/** `canopy-pre-migrate-20261204T173000Z.dump`: sorts by time, names why it was taken. */
export function backupFileName(label: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `canopy-${label}-${stamp}.dump`;
}

/**
 * `pg_dump --format=custom` (compressed) of the database into `dir` (made 0700 when missing). The file
 * appears only when the dump is complete; on failure nothing is left behind and BackupError says why.
 */
export async function pgDump(options: {
  databaseUrl: string;
  dir: string;
  label: string;
  now?: Date;
}): Promise<{ file: string; bytes: number }> {
  const dir = path.resolve(options.dir);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new BackupError(`cannot write to the backup folder ${dir}: ${(err as Error).message}`);
  }
  const file = path.join(dir, backupFileName(options.label, options.now ?? new Date()));
  const partial = `${file}.partial`;
  const stderr: string[] = [];
  const code = await new Promise<number | string>((resolve) => {
    const child = spawn('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', '--file', partial], {
      // Only what pg_dump needs; the password travels as PGPASSWORD, never as an argument.
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', LC_ALL: 'C', ...pgConnectionEnv(options.databaseUrl) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => stderr.push(d));
    child.on('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
    child.on('close', (c, signal) => resolve(c ?? signal ?? 'killed'));
  });
  if (code !== 0) {
    fs.rmSync(partial, { force: true });
    const why =
      code === 'ENOENT'
        ? 'pg_dump was not found (install postgresql-client, the same major version as the server or newer)'
        : `pg_dump failed (${code}): ${stderr.join('').trim().slice(0, 2000) || 'no message'}`;
    throw new BackupError(why);
  }
  fs.chmodSync(partial, 0o600);
  fs.renameSync(partial, file);
  return { file, bytes: fs.statSync(file).size };
}
