import { Password } from '@canopy/protocol';

/** Reads a password without echo from a terminal, or the first line of stdin when piped. Never from argv. */
export async function readPassword(prompt: string, confirm: boolean): Promise<string> {
  const stdin = process.stdin;
  let password: string;
  if (stdin.isTTY) {
    password = await promptHidden(prompt);
    if (confirm && (await promptHidden('Repeat the password: ')) !== password) {
      throw new CliError('The two passwords differ.');
    }
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  const checked = Password.safeParse(password);
  if (!checked.success)
    throw new CliError(`The password ${checked.error.issues[0]?.message ?? 'is not valid'}.`);
  return password;
}

function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new CliError('Cancelled.'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
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
