import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatLine } from './format';
import { createLogger } from './logger';

const temps: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-logger-'));
  temps.push(dir);
  return path.join(dir, 'logs');
};
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const readAll = (dir: string) =>
  fs
    .readdirSync(dir)
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('');

describe('createLogger', () => {
  it('interactive: readable lines on the console and JSON in the file', () => {
    const dir = tempDir();
    const console: string[] = [];
    const logger = createLogger({
      dir,
      level: 'info',
      mode: 'interactive',
      maxFiles: 7,
      maxSizeMb: 10,
      console: { write: (t) => console.push(t) },
    });
    logger.log.info({ nodeId: 'n1', attempt: 2 }, 'connected');
    logger.log.debug('hidden at info');
    logger.close();
    expect(console).toHaveLength(1);
    expect(console[0]).toMatch(/^\d\d:\d\d:\d\d INFO {2}connected nodeId=n1 attempt=2\n$/);
    const entry = JSON.parse(readAll(dir));
    expect(entry).toMatchObject({ level: 30, msg: 'connected', nodeId: 'n1', service: 'canopy-node' });
  });

  it('daemon: the file only', () => {
    const dir = tempDir();
    const console: string[] = [];
    const logger = createLogger({
      dir,
      level: 'debug',
      mode: 'daemon',
      maxFiles: 7,
      maxSizeMb: 10,
      console: { write: (t) => console.push(t) },
    });
    logger.log.debug('quiet');
    logger.close();
    expect(console).toEqual([]);
    expect(readAll(dir)).toContain('"msg":"quiet"');
  });

  it('has a fatal line on disk as soon as it is logged (before any exit)', () => {
    const dir = tempDir();
    const logger = createLogger({ dir, level: 'info', mode: 'daemon', maxFiles: 7, maxSizeMb: 10 });
    logger.log.fatal({ err: new Error('boom') }, 'uncaught exception');
    expect(readAll(dir)).toContain('uncaught exception');
    logger.flush();
    logger.close();
  });

  it('censors tokens and authorization headers wherever they appear', () => {
    const dir = tempDir();
    const logger = createLogger({ dir, level: 'info', mode: 'daemon', maxFiles: 7, maxSizeMb: 10 });
    logger.log.info(
      {
        token: 'cnt_secret1',
        agentToken: 'cnt_secret2',
        body: { agent_token: 'cnt_secret3', enrollment_key: 'cnp_secret4' },
        headers: { authorization: 'Bearer cns_secret5' },
        req: { headers: { authorization: 'Bearer cns_secret6' } },
      },
      'request',
    );
    logger.close();
    const text = readAll(dir);
    expect(text).not.toMatch(/secret\d/);
    expect(text).toContain('[redacted]');
  });
});

describe('formatLine', () => {
  it('prints time, level, message and key=value pairs, quoting where needed', () => {
    const line = JSON.stringify({
      level: 40,
      time: '2026-02-20T19:00:01.000Z',
      pid: 1,
      hostname: 'h',
      service: 'canopy-node',
      msg: 'reconnecting',
      reason: 'socket closed',
      attempt: 3,
      ok: false,
    });
    const text = formatLine(line, { withDate: true });
    expect(text).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d WARN {2}reconnecting reason="socket closed" attempt=3 ok=false\n$/,
    );
  });

  it('adds the stack of an error at error level, and passes other text through', () => {
    const line = JSON.stringify({
      level: 50,
      time: 0,
      msg: 'failed',
      err: { message: 'boom', stack: 'Error: boom\n  at x' },
    });
    expect(formatLine(line)).toMatch(/ERROR failed err=boom\n {4}Error: boom\n {4}at x\n$/);
    expect(formatLine('not json')).toBe('not json\n');
  });
});
