import { execFile } from 'node:child_process';
import { CliError } from '../cli/errors';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a service-manager command (systemctl, launchctl, sc.exe…) found on PATH. */
export type RunCommand = (command: string, args: string[]) => Promise<CommandResult>;

const COMMAND_TIMEOUT_MS = 60_000;

export const runCommand: RunCommand = (command, args) =>
  new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8', windowsHide: true },
      (err, stdout, stderr) => {
        const code = (err as (Error & { code?: unknown }) | null)?.code;
        if (code === 'ENOENT') {
          reject(
            new CliError(`${command} was not found on PATH: is this the service manager of this system?`),
          );
          return;
        }
        if (err && typeof code !== 'number') {
          reject(new CliError(`${command} ${args.join(' ')} failed: ${err.message}`));
          return;
        }
        resolve({ code: typeof code === 'number' ? code : 0, stdout, stderr });
      },
    );
  });

/** The first meaningful line of what a command said, for an error message. */
export function said(result: CommandResult): string {
  const line = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean);
  return line ?? `exit code ${result.code}`;
}
