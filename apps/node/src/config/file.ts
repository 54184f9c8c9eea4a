import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors';
import { homePaths } from './paths';
import { type Config, ConfigSchema } from './schema';

export type RawConfig = Record<string, unknown>;

/** The file as JSON, or null when there is none. Malformed JSON is a ConfigError naming the file. */
export function readRawConfig(home: string): RawConfig | null {
  const file = homePaths(home).config;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError(file, [`cannot be read: ${(err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, [`is not valid JSON: ${(err as Error).message}`]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(file, ['must be a JSON object']);
  }
  return raw as RawConfig;
}

/** Validates a version-2 file; every problem names its field. */
export function parseConfig(raw: RawConfig, file: string): { config: Config; unknownKeys: string[] } {
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      file,
      parsed.error.issues.map((issue) => {
        const field = issue.path.map(String).join('.') || '(top level)';
        const got = valueAt(raw, issue.path);
        return `${field}: ${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`;
      }),
    );
  }
  const known = new Set(Object.keys(ConfigSchema.shape));
  return { config: parsed.data, unknownKeys: Object.keys(raw).filter((k) => !known.has(k)) };
}

function valueAt(raw: unknown, at: PropertyKey[]): unknown {
  let v = raw;
  for (const key of at) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/**
 * Writes the config atomically (temp file + rename) with mode 0600, creating the home (0700) if needed.
 * Keys this version does not know are kept, so an older canopy-node does not erase a newer one's settings.
 */
export function writeConfig(home: string, config: Config, keep: RawConfig = {}): void {
  const { config: file } = homePaths(home);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `${JSON.stringify({ ...keep, ...config }, null, 2)}\n`);
}

/** Reads, changes and writes back the config file (which must already be version 2 or absent). */
export function updateConfig(home: string, patch: Partial<Config>): Config {
  const file = homePaths(home).config;
  const raw = readRawConfig(home) ?? { version: 2 };
  const { config, unknownKeys } = parseConfig({ ...raw, ...patch }, file);
  writeConfig(home, config, pick(raw, unknownKeys));
  return config;
}

export function pick(raw: RawConfig, keys: string[]): RawConfig {
  return Object.fromEntries(keys.map((k) => [k, raw[k]]));
}

export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  // The umask may have narrowed the mode of the new file, never widened it; make it exact.
  if (process.platform !== 'win32') fs.chmodSync(file, mode);
}
