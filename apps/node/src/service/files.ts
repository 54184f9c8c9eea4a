import { readFile } from 'node:fs/promises';
import { CliError } from '../cli/errors';

/** A service definition file's text, or null when it is not there. */
export const readIfExists = (file: string): Promise<string | null> =>
  readFile(file, 'utf8').catch(() => null);

/** start / stop / restart need the service `install` made. */
export async function requireInstalled(file: string): Promise<void> {
  if ((await readIfExists(file)) === null) {
    throw new CliError('canopy-node is not installed as a service: run `canopy-node install` first.');
  }
}
