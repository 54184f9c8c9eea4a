const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const COLORS: Record<number, string> = { 20: '\x1b[90m', 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[35m' };
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'v']);

export interface FormatOptions {
  /** Prefix the date too (for `canopy-node logs`, whose lines span days). */
  withDate?: boolean;
  color?: boolean;
}

/**
 * One pino JSON line as `time LEVEL message key=value …` for a person. Lines that are not pino JSON come
 * back unchanged. An error's stack follows on indented lines.
 */
export function formatLine(line: string, options: FormatOptions = {}): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line);
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  if (typeof entry !== 'object' || entry === null) return `${line}\n`;
  const level = typeof entry.level === 'number' ? entry.level : 30;
  const time = typeof entry.time === 'string' || typeof entry.time === 'number' ? new Date(entry.time) : null;
  const parts = [
    time && !Number.isNaN(time.getTime()) ? stamp(time, options.withDate ?? false) : '',
    (LEVELS[level] ?? String(level)).padEnd(5),
    typeof entry.msg === 'string' ? entry.msg : '',
  ];
  let stack = '';
  for (const [key, value] of Object.entries(entry)) {
    if (OMIT.has(key) || value === undefined) continue;
    if (key === 'err' && value && typeof value === 'object') {
      const err = value as { message?: unknown; stack?: unknown };
      parts.push(`err=${quote(String(err.message ?? ''))}`);
      if (level >= 50 && typeof err.stack === 'string') stack = `\n${indent(err.stack)}`;
      continue;
    }
    parts.push(`${key}=${typeof value === 'string' ? quote(value) : JSON.stringify(value)}`);
  }
  const text = parts.filter((p) => p !== '').join(' ') + stack;
  const color = options.color ? COLORS[level] : undefined;
  return color ? `${color}${text}\x1b[0m\n` : `${text}\n`;
}

function quote(value: string): string {
  return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
}

function indent(stack: string): string {
  return stack
    .split('\n')
    .map((l) => `    ${l.trim()}`)
    .join('\n');
}

function stamp(d: Date, withDate: boolean): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}` : clock;
}
