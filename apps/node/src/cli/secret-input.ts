import { PromptCancelled, readSecretLine } from '@canopy/terminal';
import { CliError, EXIT } from './errors';

/**
 * The enrollment key from a terminal prompt without echo, or the first line of stdin when piped, so it
 * stays out of the shell history and the process list.
 */
export async function readSecret(prompt: string): Promise<string> {
  let line: string;
  try {
    line = (await readSecretLine(prompt)).trim();
  } catch (err) {
    if (err instanceof PromptCancelled) throw new CliError('Cancelled.');
    throw err;
  }
  if (!line) throw new CliError('No enrollment key on stdin.', EXIT.USAGE);
  return line;
}
