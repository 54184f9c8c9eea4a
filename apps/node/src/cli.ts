import { main } from './cli/main';

// A stopped daemon, or a finished command, should end even if some library left a handle open.
const FORCED_EXIT_AFTER_MS = 5000;

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), FORCED_EXIT_AFTER_MS).unref();
  },
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
