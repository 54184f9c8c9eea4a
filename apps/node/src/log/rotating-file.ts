import fs from 'node:fs';
import path from 'node:path';

export interface RotatingFileOptions {
  dir: string;
  /** Files are `<prefix>-YYYY-MM-DD.log`, then `-1`, `-2`, … when one day outgrows maxBytes. */
  prefix?: string;
  maxBytes: number;
  /** How many files to keep, the current one included; older ones are deleted. */
  maxFiles: number;
  /** The clock that decides the day (local time). */
  now?: () => Date;
  /** Where to say that the log file cannot be written (once). */
  onError?: (err: Error) => void;
}

interface LogFileName {
  name: string;
  day: string;
  index: number;
}

/**
 * An append-only log file that starts a new file each day and whenever the current one would pass
 * maxBytes, and keeps the newest maxFiles. Writes are synchronous: a fatal line written just before
 * process.exit is on disk. A line longer than maxBytes still gets written, alone in its file.
 */
export class RotatingFileStream {
  private readonly prefix: string;
  private readonly now: () => Date;
  private fd: number | null = null;
  private day = '';
  private index = 0;
  private size = 0;
  private failed = false;

  constructor(private readonly options: RotatingFileOptions) {
    this.prefix = options.prefix ?? 'canopy-node';
    this.now = options.now ?? (() => new Date());
  }

  /** The file being written, or null before the first write. */
  get currentFile(): string | null {
    return this.fd === null ? null : path.join(this.options.dir, fileName(this.prefix, this.day, this.index));
  }

  write(line: string): boolean {
    const bytes = Buffer.byteLength(line);
    try {
      const today = localDay(this.now());
      if (this.fd === null || today !== this.day) this.open(today, bytes);
      else if (this.size > 0 && this.size + bytes > this.options.maxBytes) this.openNext(this.index + 1);
      this.size += fs.writeSync(this.fd as number, line);
      this.failed = false;
    } catch (err) {
      // A full disk must not take the daemon down; say so once until writing works again.
      if (!this.failed) this.options.onError?.(err as Error);
      this.failed = true;
      this.closeFd();
    }
    return true;
  }

  /** pino calls this from logger.flush(); the writes are already done, so only ask the disk to keep them. */
  flush(cb?: (err?: Error) => void): void {
    try {
      if (this.fd !== null) fs.fsyncSync(this.fd);
      cb?.();
    } catch (err) {
      cb?.(err as Error);
    }
  }

  flushSync(): void {
    this.flush();
  }

  end(): void {
    this.flush();
    this.closeFd();
  }

  /** Continues today's newest file if it has room, else starts the next one. */
  private open(day: string, nextWrite: number): void {
    this.closeFd();
    fs.mkdirSync(this.options.dir, { recursive: true, mode: 0o700 });
    const todays = this.list().filter((f) => f.day === day);
    const newest = todays.at(-1);
    this.day = day;
    if (newest) {
      const size = fs.statSync(path.join(this.options.dir, newest.name)).size;
      if (size === 0 || size + nextWrite <= this.options.maxBytes) {
        this.openFile(newest.index, size);
        this.prune();
        return;
      }
      this.openNext(newest.index + 1);
      return;
    }
    this.openNext(0);
  }

  private openNext(index: number): void {
    this.closeFd();
    this.openFile(index, 0);
    this.prune();
  }

  private openFile(index: number, size: number): void {
    this.index = index;
    this.size = size;
    this.fd = fs.openSync(path.join(this.options.dir, fileName(this.prefix, this.day, index)), 'a', 0o600);
  }

  private prune(): void {
    const files = this.list();
    for (const old of files.slice(0, Math.max(0, files.length - this.options.maxFiles))) {
      fs.rmSync(path.join(this.options.dir, old.name), { force: true });
    }
  }

  /** This stream's files, oldest first. */
  list(): LogFileName[] {
    return listLogFiles(this.options.dir, this.prefix);
  }

  private closeFd(): void {
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {}
    this.fd = null;
  }
}

/** `<prefix>-YYYY-MM-DD[-N].log` in a folder, oldest first. */
export function listLogFiles(dir: string, prefix = 'canopy-node'): LogFileName[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const pattern = new RegExp(
    `^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d{4}-\\d{2}-\\d{2})(?:-(\\d+))?\\.log$`,
  );
  const files: LogFileName[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (m?.[1]) files.push({ name, day: m[1], index: m[2] ? Number(m[2]) : 0 });
  }
  return files.sort((a, b) => (a.day === b.day ? a.index - b.index : a.day < b.day ? -1 : 1));
}

function fileName(prefix: string, day: string, index: number): string {
  return `${prefix}-${day}${index > 0 ? `-${index}` : ''}.log`;
}

function localDay(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
