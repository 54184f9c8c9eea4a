import type { Clock } from './clock';

/** Console lines, one per event. `--quiet` keeps only the banner (control URL, dongles) and the PINs. */
export interface Log {
  /** A start-up line, printed as is (tests parse these). */
  banner(line: string): void;
  /** A line --quiet keeps: a PIN on the dongle's "display". */
  notice(line: string): void;
  info(line: string): void;
  /** A line that can repeat at a high rate (auth failures, malformed datagrams): one per key a second, the rest counted. */
  burst(key: string, line: string): void;
}

const BURST_WINDOW_MS = 1000;

export function consoleLog(options: { quiet: boolean; clock: Clock; write?: (line: string) => void }): Log {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const stamp = (line: string) => `${new Date(options.clock()).toISOString().slice(11, 23)} ${line}`;
  const bursts = new Map<string, { windowStart: number; suppressed: number }>();
  return {
    banner: (line) => write(line),
    notice: (line) => write(stamp(line)),
    info: (line) => {
      if (!options.quiet) write(stamp(line));
    },
    burst: (key, line) => {
      if (options.quiet) return;
      const now = options.clock();
      const seen = bursts.get(key);
      if (seen && now - seen.windowStart < BURST_WINDOW_MS) {
        seen.suppressed++;
        return;
      }
      const suppressed = seen?.suppressed ?? 0;
      bursts.set(key, { windowStart: now, suppressed: 0 });
      write(stamp(suppressed > 0 ? `${line} (${suppressed} more like it not shown)` : line));
    },
  };
}

/** A Log that keeps its lines, for tests. */
export function memoryLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    banner: (l) => lines.push(l),
    notice: (l) => lines.push(l),
    info: (l) => lines.push(l),
    burst: (_k, l) => lines.push(l),
  };
}
