/** A configuration the node cannot run with; the CLI prints it and exits with code 2. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(
      problems.length === 1
        ? `Invalid configuration in ${file}: ${problems[0]}`
        : `Invalid configuration in ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}
