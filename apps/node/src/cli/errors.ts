/** Exit codes of canopy-node, documented in `--help`. */
export const EXIT = {
  OK: 0,
  /** Something failed: the cloud refused, a file could not be written, … */
  FAILURE: 1,
  /** The command line or the configuration is wrong, or the node is not set up. */
  USAGE: 2,
} as const;

/** An error whose message is meant for the person at the terminal; printed without a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
