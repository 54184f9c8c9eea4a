import pino, { type Logger } from 'pino';
import { formatLine } from './format';
import { RotatingFileStream } from './rotating-file';

export type { Logger } from 'pino';

/** interactive: readable lines on the console and JSON in the file; daemon: the file only. */
export type LogMode = 'interactive' | 'daemon';

export interface LoggerOptions {
  /** `<home>/logs`. */
  dir: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  mode: LogMode;
  maxFiles: number;
  maxSizeMb: number;
  /** The console for interactive mode; default process.stdout. */
  console?: { write(text: string): unknown };
  color?: boolean;
  /** The clock that names the files; default the real one. */
  now?: () => Date;
  /** Where a problem with the log file itself is said; default process.stderr. */
  onFileError?: (err: Error) => void;
}

export interface NodeLogger {
  log: Logger;
  /** The file being written (null before the first line or when it cannot be written). */
  file(): string | null;
  /** Makes sure everything logged so far is on disk; call before exiting. */
  flush(): void;
  close(): void;
}

/** Secrets are censored wherever these keys appear: a net under the rule that code never logs them. */
export const REDACT_PATHS = [
  'token',
  'agentToken',
  'agent_token',
  'sessionToken',
  'apiKey',
  'enrollmentKey',
  'enrollment_key',
  'authorization',
  'password',
  'headers.authorization',
  'headers.Authorization',
  '*.token',
  '*.agentToken',
  '*.agent_token',
  '*.sessionToken',
  '*.apiKey',
  '*.enrollmentKey',
  '*.enrollment_key',
  '*.authorization',
  '*.password',
  '*.headers.authorization',
  '*.headers.Authorization',
];

export function createLogger(options: LoggerOptions): NodeLogger {
  const consoleOut = options.mode === 'interactive' ? (options.console ?? process.stdout) : null;
  const file = new RotatingFileStream({
    dir: options.dir,
    maxBytes: options.maxSizeMb * 1024 * 1024,
    maxFiles: options.maxFiles,
    now: options.now,
    onError:
      options.onFileError ??
      ((err) =>
        process.stderr.write(`canopy-node: cannot write the log file in ${options.dir}: ${err.message}\n`)),
  });
  const destination = {
    write(line: string) {
      file.write(line);
      consoleOut?.write(formatLine(line, { color: options.color }));
      return true;
    },
    flush(cb?: (err?: Error) => void) {
      file.flush(cb);
    },
  };
  const log = pino(
    {
      level: options.level,
      base: { pid: process.pid, service: 'canopy-node' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination,
  );
  return {
    log,
    file: () => file.currentFile,
    flush: () => file.flush(),
    close: () => file.end(),
  };
}

/** A logger that writes nowhere, for code paths that have no home yet. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
