import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TaskType } from '@canopy/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS, type ExecutorContext, executeTask } from './executor';

const posix = process.platform !== 'win32';
let base: string;
let root: string;
let ctx: ExecutorContext;

beforeEach(() => {
  base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'canopy-exec-')));
  const home = path.join(base, 'home');
  root = path.join(home, 'canopy-workspace');
  mkdirSync(root, { recursive: true });
  ctx = {
    workspaceRoot: root,
    userHome: home,
    nodeHome: path.join(home, '.canopy-node'),
    limits: { ...DEFAULT_LIMITS, killGraceMs: 300 },
    now: () => new Date('2026-03-01T10:00:00Z'),
  };
});

afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

const run = (type: TaskType, payload: Record<string, unknown>, c = ctx) => executeTask({ type, payload }, c);

/** Gone, or a zombie nobody reaped yet (the container's init may not). */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  if (process.platform !== 'linux') return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

describe.runIf(posix)('shell tasks', () => {
  it('runs a command in the workspace and captures its output', async () => {
    const outcome = await run('shell', { command: 'pwd; echo out; echo err >&2' });
    expect(outcome.status).toBe('done');
    expect(outcome.result).toMatchObject({
      exit_code: 0,
      signal: null,
      stdout: `${root}\nout\n`,
      stderr: 'err\n',
      truncated: false,
    });
    expect((outcome.result as { duration_ms: number }).duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('reports a non-zero exit as done, with the code: the command ran', async () => {
    const outcome = await run('shell', { command: 'echo failing >&2; exit 3' });
    expect(outcome).toMatchObject({ status: 'done', result: { exit_code: 3, stderr: 'failing\n' } });
  });

  it('runs in a folder inside the workspace', async () => {
    mkdirSync(path.join(root, 'sub'));
    const outcome = await run('shell', { command: 'pwd', cwd: 'sub' });
    expect(outcome.result).toMatchObject({ stdout: `${path.join(root, 'sub')}\n` });
  });

  it('refuses a working folder outside the workspace or missing', async () => {
    expect(await run('shell', { command: 'pwd', cwd: '..' })).toMatchObject({
      status: 'error',
      result: { code: 'PATH_REFUSED' },
    });
    expect(await run('shell', { command: 'pwd', cwd: '/' })).toMatchObject({
      result: { code: 'PATH_REFUSED' },
    });
    expect(await run('shell', { command: 'pwd', cwd: 'missing' })).toMatchObject({
      status: 'error',
      result: { code: 'NOT_A_FOLDER' },
    });
  });

  it('kills the whole process group on timeout', async () => {
    const started = Date.now();
    const outcome = await run('shell', {
      command: 'sleep 30 & echo $! > child.pid; echo started; wait',
      timeout_ms: 300,
    });
    expect(outcome.status).toBe('timeout');
    expect(outcome.error).toMatch(/within 300 ms/);
    expect(outcome.result).toMatchObject({ stdout: 'started\n', exit_code: null, signal: 'SIGTERM' });
    expect(Date.now() - started).toBeLessThan(5_000);
    const child = Number(readFileSync(path.join(root, 'child.pid'), 'utf8'));
    // SIGKILL is sent; the kernel finishes the exit a moment later.
    await vi.waitFor(() => expect(processGone(child)).toBe(true), { timeout: 2_000, interval: 20 });
  });

  it('escalates to SIGKILL when the group ignores SIGTERM', async () => {
    const outcome = await run('shell', {
      command: "trap '' TERM; sleep 30 & echo $! > child.pid; wait",
      timeout_ms: 200,
    });
    expect(outcome.status).toBe('timeout');
    const child = Number(readFileSync(path.join(root, 'child.pid'), 'utf8'));
    // SIGKILL is sent; the kernel finishes the exit a moment later.
    await vi.waitFor(() => expect(processGone(child)).toBe(true), { timeout: 2_000, interval: 20 });
  });

  it('caps the timeout at the configured maximum', async () => {
    const capped = { ...ctx, limits: { ...ctx.limits, maxTimeoutMs: 200 } };
    const outcome = await run('shell', { command: 'sleep 30', timeout_ms: 3_600_000 }, capped);
    expect(outcome).toMatchObject({ status: 'timeout', error: expect.stringMatching(/within 200 ms/) });
  });

  it('keeps at most the output budget, stdout and stderr together', async () => {
    const small = { ...ctx, limits: { ...ctx.limits, maxOutputBytes: 1000 } };
    const outcome = await run('shell', { command: "head -c 5000 /dev/zero | tr '\\0' a" }, small);
    expect(outcome.status).toBe('done');
    const result = outcome.result as {
      stdout: string;
      stderr: string;
      truncated: boolean;
      exit_code: number;
    };
    expect(result.stdout).toBe('a'.repeat(1000));
    expect(result.truncated).toBe(true);
    expect(result.exit_code).toBe(0);

    const both = await run('shell', { command: "printf '%0600d' 0; printf '%0600d' 0 >&2" }, small);
    const r2 = both.result as { stdout: string; stderr: string; truncated: boolean };
    expect(r2.stdout.length + r2.stderr.length).toBe(1000);
    expect(r2.truncated).toBe(true);
  });

  it('stops a running command when aborted', async () => {
    const abort = new AbortController();
    const pending = run('shell', { command: 'sleep 30' }, { ...ctx, signal: abort.signal });
    setTimeout(() => abort.abort(), 100);
    expect(await pending).toMatchObject({ status: 'error', error: expect.stringMatching(/node stopped/) });
  });

  it('rejects a payload without a command', async () => {
    expect(await run('shell', {})).toMatchObject({ status: 'error', result: { code: 'INVALID_PAYLOAD' } });
  });
});

describe('file_read', () => {
  it('reads a UTF-8 file inside the workspace', async () => {
    writeFileSync(path.join(root, 'notes.txt'), 'héllo\n');
    expect(await run('file_read', { path: 'notes.txt' })).toEqual({
      status: 'done',
      result: { path: path.join(root, 'notes.txt'), size: 7, encoding: 'utf8', content: 'héllo\n' },
    });
  });

  it('returns bytes that are not UTF-8 as base64', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    writeFileSync(path.join(root, 'blob.bin'), bytes);
    expect(await run('file_read', { path: 'blob.bin' })).toMatchObject({
      status: 'done',
      result: { size: 4, encoding: 'base64', content: bytes.toString('base64') },
    });
  });

  it('refuses a file larger than the limit', async () => {
    writeFileSync(path.join(root, 'big'), Buffer.alloc(2048));
    const small = { ...ctx, limits: { ...ctx.limits, maxReadBytes: 1024 } };
    expect(await run('file_read', { path: 'big' }, small)).toMatchObject({
      status: 'error',
      result: { code: 'TOO_LARGE' },
    });
  });

  it('refuses paths outside the workspace and protected places', async () => {
    writeFileSync(path.join(base, 'outside.txt'), 'secret');
    for (const p of ['../../outside.txt', path.join(base, 'outside.txt'), '~/.ssh/id_rsa', '/etc/shadow']) {
      expect(await run('file_read', { path: p })).toMatchObject({
        status: 'error',
        result: { code: 'PATH_REFUSED' },
      });
    }
  });

  it('says plainly when the file is missing or a folder', async () => {
    const missing = await run('file_read', { path: 'nope.txt' });
    expect(missing).toEqual({
      status: 'error',
      error: 'no such file or folder: nope.txt',
      result: { code: 'NOT_FOUND' },
    });
    mkdirSync(path.join(root, 'dir'));
    expect(await run('file_read', { path: 'dir' })).toMatchObject({ result: { code: 'NOT_A_FILE' } });
  });
});

describe('file_write', () => {
  it('writes a file, creating its folders inside the workspace', async () => {
    const outcome = await run('file_write', { path: 'a/b/c.txt', content: 'héllo' });
    const target = path.join(root, 'a/b/c.txt');
    expect(outcome).toEqual({ status: 'done', result: { path: target, bytes: 6 } });
    expect(readFileSync(target, 'utf8')).toBe('héllo');
  });

  it('decodes base64 content', async () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    await run('file_write', { path: 'bin', content: bytes.toString('base64'), encoding: 'base64' });
    expect(readFileSync(path.join(root, 'bin'))).toEqual(bytes);
    expect(
      await run('file_write', { path: 'bin', content: '!!not base64', encoding: 'base64' }),
    ).toMatchObject({
      status: 'error',
      result: { code: 'INVALID_PAYLOAD' },
    });
  });

  it('replaces a file atomically, keeping its permissions and leaving no temporary file', async () => {
    const target = path.join(root, 'conf');
    writeFileSync(target, 'old', { mode: 0o640 });
    await run('file_write', { path: 'conf', content: 'new' });
    expect(readFileSync(target, 'utf8')).toBe('new');
    if (posix) expect(statSync(target).mode & 0o777).toBe(0o640);
    expect(await readdir(root)).toEqual(['conf']);
  });

  it('refuses content larger than the limit', async () => {
    const small = { ...ctx, limits: { ...ctx.limits, maxWriteBytes: 10 } };
    expect(await run('file_write', { path: 'x', content: 'x'.repeat(11) }, small)).toMatchObject({
      result: { code: 'TOO_LARGE' },
    });
    expect(existsSync(path.join(root, 'x'))).toBe(false);
  });

  it('refuses paths outside the workspace and protected places', async () => {
    for (const p of ['../escape.txt', path.join(base, 'escape.txt'), '~/.ssh/authorized_keys']) {
      expect(await run('file_write', { path: p, content: 'x' })).toMatchObject({
        status: 'error',
        result: { code: 'PATH_REFUSED' },
      });
    }
    expect(existsSync(path.join(base, 'home', 'escape.txt'))).toBe(false);
    expect(existsSync(path.join(base, 'escape.txt'))).toBe(false);
    expect(existsSync(path.join(base, 'home', '.ssh'))).toBe(false);
  });

  it('refuses to replace a folder', async () => {
    mkdirSync(path.join(root, 'dir'));
    expect(await run('file_write', { path: 'dir', content: 'x' })).toMatchObject({
      result: { code: 'NOT_A_FILE' },
    });
  });
});

describe('system_info and status_ping', () => {
  it('describes the machine without personal data', async () => {
    const outcome = await run('system_info', {});
    expect(outcome.status).toBe('done');
    const info = outcome.result as Record<string, unknown>;
    expect(Object.keys(info).sort()).toEqual(
      [
        'arch',
        'cpus',
        'hostname',
        'load_avg',
        'memory_free',
        'memory_total',
        'node_version',
        'platform',
        'release',
        'uptime_s',
      ].sort(),
    );
  });

  it('answers a ping with the current time', async () => {
    expect(await run('status_ping', {})).toEqual({
      status: 'done',
      result: { pong: true, at: '2026-03-01T10:00:00.000Z' },
    });
  });
});
