import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../log';
import { KeyError } from './envelope';
import { Keyring, loadKeyring } from './keyring';

const b64 = (fill: number, length = 32) => Buffer.alloc(length, fill).toString('base64');
const aad = {
  dongleId: '0b6c1f64-7a3e-4d0c-9d44-3f1d2a5b6c7e',
  userId: '5f2d8e3a-1b4c-4e6f-8a9b-0c1d2e3f4a5b',
  createdAt: new Date('2024-05-06T07:08:09.123Z'),
};

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.join('\n');
  }
  throw new Error('expected a ConfigError');
}

function logger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger('info', sink), lines, text: () => JSON.stringify(lines) };
}

describe('DONGLE_TOKEN_MASTER_KEY_V<n> in the configuration', () => {
  it('reads every version, lowest first', () => {
    const config = loadConfig({ DONGLE_TOKEN_MASTER_KEY_V2: b64(2), DONGLE_TOKEN_MASTER_KEY_V1: b64(1) });
    expect(config.dongleTokenKeys.map((k) => k.version)).toEqual([1, 2]);
    expect(config.dongleTokenKeys[1]?.bytes.equals(Buffer.alloc(32, 2))).toBe(true);
    expect(loadConfig({}).dongleTokenKeys).toEqual([]);
    expect(loadConfig({ DONGLE_TOKEN_MASTER_KEY_V1: '' }).dongleTokenKeys).toEqual([]);
  });

  it('names a key that is not base64, or not 32 bytes, without showing it', () => {
    const notBase64 = 'this is not base64!!';
    const short = b64(7, 16);
    const long = b64(8, 48);
    const problems = problemsOf({
      DONGLE_TOKEN_MASTER_KEY_V1: notBase64,
      DONGLE_TOKEN_MASTER_KEY_V2: short,
      DONGLE_TOKEN_MASTER_KEY_V3: long,
      PORT: 'eighty',
    });
    expect(problems).toMatch(/^DONGLE_TOKEN_MASTER_KEY_V1: must be base64/m);
    expect(problems).toMatch(
      /^DONGLE_TOKEN_MASTER_KEY_V2: must be base64 of exactly 32 bytes, this one decodes to 16/m,
    );
    expect(problems).toMatch(/^DONGLE_TOKEN_MASTER_KEY_V3: .*decodes to 48/m);
    expect(problems).toMatch(/^PORT: /m);
    for (const value of [notBase64, short, long]) expect(problems).not.toContain(value);
  });

  it('refuses a misspelt key name instead of silently using the key file', () => {
    const problems = problemsOf({ DONGLE_TOKEN_MASTER_KEY: b64(1), DONGLE_TOKEN_MASTER_KEY_V0: b64(1) });
    expect(problems).toMatch(/^DONGLE_TOKEN_MASTER_KEY: not a key name/m);
    expect(problems).toMatch(/^DONGLE_TOKEN_MASTER_KEY_V0: not a key name/m);
    expect(problems).not.toContain(b64(1));
  });

  it('keeps key bytes out of JSON and inspect output', () => {
    const config = loadConfig({ DONGLE_TOKEN_MASTER_KEY_V1: b64(0x41) });
    const secret = Buffer.alloc(32, 0x41);
    for (const text of [JSON.stringify(config), inspect(config, { depth: 5 })]) {
      expect(text).not.toContain(secret.toString('base64'));
      expect(text).not.toContain(secret.toString('hex'));
      expect(text).not.toContain('65, 65, 65');
      expect(text).toContain('[redacted]');
    }
  });
});

describe('loadKeyring', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-keys-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('creates a 0600 key file in a 0700 folder on first start, warns loudly, and reuses it', () => {
    const first = logger();
    const keyring = loadKeyring({ dataDir, dongleTokenKeys: [] }, first.log);
    const file = path.join(dataDir, 'keys', 'dongle-token-master-key-v1');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    expect(keyring.versions).toEqual([1]);
    expect(keyring.source).toEqual({ kind: 'file', dir: path.dirname(file) });
    const loud = first.lines.filter((l) => /stored next to the data/.test(String(l.msg)));
    expect(loud).toHaveLength(1);
    expect(loud[0]?.level).toBe(40);
    expect(String(loud[0]?.msg)).toMatch(/DONGLE_TOKEN_MASTER_KEY_V1/);
    expect(String(loud[0]?.msg)).toMatch(/docs\/configuration\.md#dongle-token-encryption/);

    const sealed = keyring.seal(Buffer.from('token'), aad);
    const again = loadKeyring({ dataDir, dongleTokenKeys: [] }, logger().log);
    expect(again.open(sealed, aad).toString()).toBe('token');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['dongle-token-master-key-v1']);
    expect(first.text()).not.toContain(fs.readFileSync(file, 'utf8').trim());
  });

  it('seals with the newest version and opens every version it holds', () => {
    const v1 = { version: 1, bytes: Buffer.alloc(32, 1) };
    const v3 = { version: 3, bytes: Buffer.alloc(32, 3) };
    const old = new Keyring([v1], { kind: 'env' }).seal(Buffer.from('old'), aad);
    const keyring = new Keyring([v3, v1], { kind: 'env' });
    expect(keyring.newest.version).toBe(3);
    expect(keyring.versions).toEqual([1, 3]);
    expect(keyring.seal(Buffer.from('new'), aad).keyVersion).toBe(3);
    expect(keyring.open(old, aad).toString()).toBe('old');
    expect(() => keyring.open({ ...old, keyVersion: 2 }, aad)).toThrow(KeyError);
    expect(JSON.stringify(keyring)).toBe('{"versions":[1,3],"newest":3,"source":"env"}');
  });

  it('takes every versioned key file, the newest for new writes', () => {
    const dir = path.join(dataDir, 'keys');
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'dongle-token-master-key-v1'), `${b64(1)}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'dongle-token-master-key-v2'), `${b64(2)}\n`, { mode: 0o600 });
    const keyring = loadKeyring({ dataDir, dongleTokenKeys: [] }, logger().log);
    expect(keyring.versions).toEqual([1, 2]);
    expect(keyring.newest.bytes.equals(Buffer.alloc(32, 2))).toBe(true);
  });

  it('prefers the environment over a key file, and says so', () => {
    loadKeyring({ dataDir, dongleTokenKeys: [] }, logger().log);
    const { log, lines, text } = logger();
    const config = loadConfig({ CANOPY_DATA_DIR: dataDir, DONGLE_TOKEN_MASTER_KEY_V1: b64(9) });
    const keyring = loadKeyring(config, log);
    expect(keyring.source).toEqual({ kind: 'env' });
    expect(keyring.newest.bytes.equals(Buffer.alloc(32, 9))).toBe(true);
    expect(lines.some((l) => /key files .* are ignored/.test(String(l.msg)))).toBe(true);
    expect(lines.some((l) => /stored next to the data/.test(String(l.msg)))).toBe(false);
    expect(text()).not.toContain(b64(9));
  });

  it('creates no key file when the environment has keys', () => {
    loadKeyring(loadConfig({ CANOPY_DATA_DIR: dataDir, DONGLE_TOKEN_MASTER_KEY_V1: b64(9) }), logger().log);
    expect(fs.existsSync(path.join(dataDir, 'keys'))).toBe(false);
  });

  it('names a damaged key file without showing its contents', () => {
    const dir = path.join(dataDir, 'keys');
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'dongle-token-master-key-v1'), b64(5, 31), { mode: 0o600 });
    let error: unknown;
    try {
      loadKeyring({ dataDir, dongleTokenKeys: [] }, logger().log);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toContain(
      'dongle-token-master-key-v1: must hold base64 of exactly 32',
    );
    expect(String((error as Error).message)).not.toContain(b64(5, 31));
  });

  it('warns about a key file other users can read', () => {
    const dir = path.join(dataDir, 'keys');
    fs.mkdirSync(dir, { mode: 0o700 });
    const file = path.join(dir, 'dongle-token-master-key-v1');
    fs.writeFileSync(file, b64(5));
    fs.chmodSync(file, 0o644);
    const { log, lines } = logger();
    loadKeyring({ dataDir, dongleTokenKeys: [] }, log);
    expect(lines.some((l) => /readable by other users/.test(String(l.msg)))).toBe(true);
  });
});
