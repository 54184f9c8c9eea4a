import { Password } from '@canopy/protocol';
import { PromptCancelled, promptHidden, readSecretLine } from '@canopy/terminal';

/** Reads a password without echo from a terminal, or the first line of stdin when piped. Never from argv. */
export async function readPassword(prompt: string, confirm: boolean): Promise<string> {
  let password: string;
  try {
    password = await readSecretLine(prompt);
    if (confirm && process.stdin.isTTY && (await promptHidden('Repeat the password: ')) !== password) {
      throw new CliError('The two passwords differ.');
    }
  } catch (err) {
    if (err instanceof PromptCancelled) throw new CliError('Cancelled.');
    throw err;
  }
  const checked = Password.safeParse(password);
  if (!checked.success)
    throw new CliError(`The password ${checked.error.issues[0]?.message ?? 'is not valid'}.`);
  return password;
}

/** An error whose message is meant for the person at the terminal; printed without a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
