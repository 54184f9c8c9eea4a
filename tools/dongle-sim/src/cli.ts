import { systemClock } from './clock';
import { consoleLog } from './log';
import { HELP, parseOptions, UsageError } from './options';
import { startSim } from './sim';
import { StateFileError } from './state-file';

async function main(argv: string[]): Promise<number | undefined> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`canopy-dongle-sim: ${err.message}\nTry canopy-dongle-sim --help.\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const log = consoleLog({ quiet: parsed.options.quiet, clock: systemClock });
  let sim: Awaited<ReturnType<typeof startSim>>;
  try {
    sim = await startSim(parsed.options, log, systemClock);
  } catch (err) {
    const usage = err instanceof UsageError || err instanceof StateFileError;
    process.stderr.write(`canopy-dongle-sim: ${err instanceof Error ? err.message : String(err)}\n`);
    return usage ? 2 : 1;
  }
  const stop = (signal: string) => {
    log.info(`${signal}: closing sockets`);
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return undefined; // runs until a signal
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
