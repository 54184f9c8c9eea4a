import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listLogFiles, RotatingFileStream } from './rotating-file';

const temps: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-logs-'));
  temps.push(dir);
  return path.join(dir, 'logs');
};
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const names = (dir: string) => fs.readdirSync(dir).sort();
const line = (n: number) => `${JSON.stringify({ n, pad: 'x'.repeat(40) })}\n`; // 60 bytes or so

describe('RotatingFileStream', () => {
  it('names the file after the local day and creates the folder 0700, files 0600', () => {
    const dir = tempDir();
    const stream = new RotatingFileStream({
      dir,
      maxBytes: 1000,
      maxFiles: 7,
      now: () => new Date(2026, 1, 20, 9),
    });
    stream.write(line(1));
    stream.end();
    expect(names(dir)).toEqual(['canopy-node-2026-02-20.log']);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, 'canopy-node-2026-02-20.log')).mode & 0o777).toBe(0o600);
  });

  it('starts -1, -2 … when a day outgrows the size limit, never splitting a line', () => {
    const dir = tempDir();
    const size = Buffer.byteLength(line(1));
    const stream = new RotatingFileStream({
      dir,
      maxBytes: size * 2,
      maxFiles: 10,
      now: () => new Date(2026, 1, 20, 9),
    });
    for (let i = 0; i < 5; i++) stream.write(line(i));
    stream.end();
    expect(names(dir)).toEqual([
      'canopy-node-2026-02-20-1.log',
      'canopy-node-2026-02-20-2.log',
      'canopy-node-2026-02-20.log',
    ]);
    expect(fs.readFileSync(path.join(dir, 'canopy-node-2026-02-20.log'), 'utf8')).toBe(line(0) + line(1));
    expect(fs.readFileSync(path.join(dir, 'canopy-node-2026-02-20-2.log'), 'utf8')).toBe(line(4));
  });

  it('starts a new file at midnight', () => {
    const dir = tempDir();
    let now = new Date(2026, 1, 20, 23, 59, 59);
    const stream = new RotatingFileStream({ dir, maxBytes: 10_000, maxFiles: 7, now: () => now });
    stream.write(line(1));
    now = new Date(2026, 1, 21, 0, 0, 1);
    stream.write(line(2));
    expect(stream.currentFile).toBe(path.join(dir, 'canopy-node-2026-02-21.log'));
    stream.end();
    expect(names(dir)).toEqual(['canopy-node-2026-02-20.log', 'canopy-node-2026-02-21.log']);
  });

  it('keeps the newest maxFiles and deletes the oldest', () => {
    const dir = tempDir();
    let day = 1;
    const stream = new RotatingFileStream({
      dir,
      maxBytes: 10_000,
      maxFiles: 3,
      now: () => new Date(2026, 2, day, 12),
    });
    for (; day <= 6; day++) stream.write(line(day));
    stream.end();
    expect(names(dir)).toEqual([
      'canopy-node-2026-03-04.log',
      'canopy-node-2026-03-05.log',
      'canopy-node-2026-03-06.log',
    ]);
  });

  it('counts size-rotated files in the limit, oldest day and index first', () => {
    const dir = tempDir();
    const size = Buffer.byteLength(line(1));
    let now = new Date(2026, 2, 1, 12);
    const stream = new RotatingFileStream({ dir, maxBytes: size, maxFiles: 3, now: () => now });
    stream.write(line(1));
    stream.write(line(2));
    stream.write(line(3));
    now = new Date(2026, 2, 2, 12);
    stream.write(line(4));
    stream.end();
    expect(listLogFiles(dir).map((f) => f.name)).toEqual([
      'canopy-node-2026-03-01-1.log',
      'canopy-node-2026-03-01-2.log',
      'canopy-node-2026-03-02.log',
    ]);
  });

  it("continues today's file after a restart while it has room", () => {
    const dir = tempDir();
    const now = () => new Date(2026, 1, 20, 9);
    const first = new RotatingFileStream({ dir, maxBytes: 1000, maxFiles: 7, now });
    first.write(line(1));
    first.end();
    const second = new RotatingFileStream({ dir, maxBytes: 1000, maxFiles: 7, now });
    second.write(line(2));
    second.end();
    expect(names(dir)).toEqual(['canopy-node-2026-02-20.log']);
    expect(fs.readFileSync(path.join(dir, 'canopy-node-2026-02-20.log'), 'utf8')).toBe(line(1) + line(2));
  });

  it('ignores files that are not its own when pruning', () => {
    const dir = tempDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'stdout.log'), 'service manager output');
    let day = 1;
    const stream = new RotatingFileStream({
      dir,
      maxBytes: 10_000,
      maxFiles: 1,
      now: () => new Date(2026, 2, day),
    });
    stream.write(line(1));
    day = 2;
    stream.write(line(2));
    stream.end();
    expect(names(dir)).toEqual(['canopy-node-2026-03-02.log', 'stdout.log']);
  });

  it('reports a write failure once and keeps going', () => {
    const dir = tempDir();
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.writeFileSync(dir, 'a file where the folder should be');
    const errors: Error[] = [];
    const stream = new RotatingFileStream({
      dir,
      maxBytes: 1000,
      maxFiles: 7,
      onError: (e) => errors.push(e),
    });
    expect(() => {
      stream.write(line(1));
      stream.write(line(2));
    }).not.toThrow();
    expect(errors).toHaveLength(1);
  });
});
