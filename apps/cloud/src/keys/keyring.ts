import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { type Config, ConfigError } from '../config';
import type { Logger } from '../log';
import {
  KEY_BYTES,
  type KeyLookup,
  type MasterKey,
  open,
  type SealedToken,
  seal,
  type TokenAad,
} from './envelope';

export const KEYS_DOC = 'docs/configuration.md#dongle-token-encryption';

/** Every master key version the cloud knows; new records are sealed with the newest (highest) one. */
export class Keyring implements KeyLookup {
  private readonly byVersion: ReadonlyMap<number, MasterKey>;
  readonly newest: MasterKey;

  constructor(
    keys: ReadonlyArray<MasterKey>,
    /** Where the keys came from: the environment, or the key file(s) in the data folder. */
    readonly source: { kind: 'env' } | { kind: 'file'; dir: string },
  ) {
    if (keys.length === 0) throw new Error('a keyring needs at least one key');
    this.byVersion = new Map(keys.map((k) => [k.version, k]));
    if (this.byVersion.size !== keys.length) throw new Error('a keyring cannot hold one version twice');
    this.newest = [...keys].sort((a, b) => b.version - a.version)[0] as MasterKey;
  }

  /** Versions held, lowest first. */
  get versions(): number[] {
    return [...this.byVersion.keys()].sort((a, b) => a - b);
  }

  get(version: number): MasterKey | undefined {
    return this.byVersion.get(version);
  }

  has(version: number): boolean {
    return this.byVersion.has(version);
  }

  /** Seals a token with the newest key. */
  seal(plaintext: Buffer, aad: TokenAad): SealedToken {
    return seal(plaintext, this.newest, aad);
  }

  /** Opens a record sealed with any version held; a KeyError otherwise. */
  open(record: SealedToken, aad: TokenAad): Buffer {
    return open(record, this, aad);
  }

  toJSON() {
    return { versions: this.versions, newest: this.newest.version, source: this.source.kind };
  }

  [inspect.custom]() {
    return `Keyring ${JSON.stringify(this.toJSON())}`;
  }
}

export const KEY_FILE_PREFIX = 'dongle-token-master-key-v';
const KEY_FILE = /^dongle-token-master-key-v([1-9][0-9]{0,5})$/;

export function keyFolder(dataDir: string): string {
  return path.join(dataDir, 'keys');
}

/**
 * The master keys from `DONGLE_TOKEN_MASTER_KEY_V<n>` (parsed in config.ts); without any, the key file(s) in
 * `<data>/keys/`, creating `dongle-token-master-key-v1` on first start. Call once per start: it logs.
 */
export function loadKeyring(config: Pick<Config, 'dataDir' | 'dongleTokenKeys'>, log: Logger): Keyring {
  const dir = keyFolder(config.dataDir);
  const files = readKeyFiles(dir);
  if (config.dongleTokenKeys.length > 0) {
    const keyring = new Keyring(config.dongleTokenKeys, { kind: 'env' });
    log.info(
      { key_versions: keyring.versions, newest_key_version: keyring.newest.version },
      'dongle tokens: master keys from DONGLE_TOKEN_MASTER_KEY_V*',
    );
    if (files.length > 0) {
      log.warn(
        { key_folder: dir, file_versions: files.map((k) => k.version) },
        `dongle tokens: DONGLE_TOKEN_MASTER_KEY_V* is set, so the key files in ${dir} are ignored; tokens sealed with those files open only if the variables hold the same keys (${KEYS_DOC})`,
      );
    }
    for (const file of files) file.bytes.fill(0);
    return keyring;
  }

  const keys = files.length > 0 ? files : [createKeyFile(dir, 1, log)];
  const keyring = new Keyring(keys, { kind: 'file', dir });
  for (const version of keyring.versions) {
    const file = path.join(dir, `${KEY_FILE_PREFIX}${version}`);
    if ((fs.statSync(file).mode & 0o077) !== 0)
      log.warn({ key_file: file }, `dongle tokens: ${file} is readable by other users; chmod 600 it`);
  }
  log.warn(
    { key_folder: dir, key_versions: keyring.versions, newest_key_version: keyring.newest.version },
    `!!! dongle tokens are encrypted with a master key stored next to the data (${dir}): anyone with a copy of the data folder can read them. In production set DONGLE_TOKEN_MASTER_KEY_V1 (base64 of 32 bytes, e.g. \`openssl rand -base64 32\`) in the service's environment file instead; see ${KEYS_DOC}`,
  );
  return keyring;
}

function readKeyFiles(dir: string): MasterKey[] {
  if (!fs.existsSync(dir)) return [];
  const keys: MasterKey[] = [];
  const problems: string[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const match = KEY_FILE.exec(name);
    if (!match) continue;
    const file = path.join(dir, name);
    const bytes = decodeKey(fs.readFileSync(file, 'utf8'));
    if (bytes) keys.push({ version: Number(match[1]), bytes });
    else problems.push(`${file}: must hold base64 of exactly ${KEY_BYTES} bytes; contents not shown`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return keys;
}

function decodeKey(text: string): Buffer | undefined {
  const value = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== KEY_BYTES || bytes.toString('base64') !== value) return undefined;
  return bytes;
}

/**
 * Writes a new random key, 0600 in a 0700 folder, atomically: written under a temporary name and linked into
 * place, so a concurrent start never reads half a key and two starts never make two different keys.
 */
function createKeyFile(dir: string, version: number, log: Logger): MasterKey {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const file = path.join(dir, `${KEY_FILE_PREFIX}${version}`);
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const bytes = randomBytes(KEY_BYTES);
  fs.writeFileSync(temp, `${bytes.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(temp, file);
    log.warn({ key_file: file }, 'dongle tokens: created a new master key file');
    return { version, bytes };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    bytes.fill(0);
    const existing = readKeyFiles(dir).find((k) => k.version === version);
    if (!existing) throw err;
    return existing;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}
