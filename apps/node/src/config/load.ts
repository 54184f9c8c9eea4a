import { ConfigError } from './errors';
import { parseConfig, pick, type RawConfig, readRawConfig, writeConfig } from './file';
import { homePaths } from './paths';
import { fixPermissions } from './permissions';
import { CONFIG_VERSION, type Config, ConfigSchema, type CredentialStoreKind, defaultConfig } from './schema';

/** Puts a token into the credential store and says which one took it (credential/ supplies this). */
export type StoreToken = (token: string) => Promise<CredentialStoreKind>;

export interface OpenedConfig {
  config: Config;
  /** False when there is no config file yet (a fresh home): `config` holds the defaults. */
  exists: boolean;
  /** Sentences for the user: permission fixes, ignored keys, the v1 upgrade. */
  notices: string[];
  /** True when a version-1 file was upgraded (and its plaintext key moved into the store). */
  migrated: boolean;
}

/**
 * How every command and the daemon read the config: narrow the home's permissions, upgrade a version-1
 * file, validate. A bad file is a ConfigError naming the file and each bad field.
 */
export async function openConfig(home: string, storeToken: StoreToken): Promise<OpenedConfig> {
  const notices = fixPermissions(home);
  const file = homePaths(home).config;
  let raw = readRawConfig(home);
  if (!raw) return { config: defaultConfig(), exists: false, notices, migrated: false };
  let migrated = false;
  if (needsMigration(raw, file)) {
    const result = await migrateV1(home, raw, storeToken);
    notices.push(...result.notices);
    raw = result.raw;
    migrated = true;
  }
  const { config, unknownKeys } = parseConfig(raw, file);
  if (unknownKeys.length > 0) {
    notices.push(
      `${file}: unknown setting${unknownKeys.length > 1 ? 's' : ''} ${unknownKeys.join(', ')} ignored`,
    );
  }
  return { config, exists: true, notices, migrated };
}

/** v0.1 files had no `version` (or `version: 1`) and a plaintext `apiKey`; never keep a key in the file. */
export function needsMigration(raw: RawConfig, file: string): boolean {
  if (raw.version !== undefined && raw.version !== 1 && raw.version !== CONFIG_VERSION) {
    throw new ConfigError(file, [
      `version: ${JSON.stringify(raw.version)} is not a version this canopy-node (config version ${CONFIG_VERSION}) understands; it may have been written by a newer release`,
    ]);
  }
  return raw.version !== CONFIG_VERSION || typeof raw.apiKey === 'string';
}

const V1_ONLY_KEYS = ['apiKey', 'apiUrl', 'version'];

/**
 * Moves the plaintext key into the credential store first and rewrites the file second, so a crash between
 * the two leaves the key where it was and the next start simply migrates again. Settings of the old file
 * that are not valid any more are dropped with a notice rather than blocking the upgrade.
 */
export async function migrateV1(
  home: string,
  raw: RawConfig,
  storeToken: StoreToken,
): Promise<{ raw: RawConfig; notices: string[] }> {
  const file = homePaths(home).config;
  const notices: string[] = [];
  const apiKey = typeof raw.apiKey === 'string' && raw.apiKey.trim() !== '' ? raw.apiKey.trim() : null;
  const next: RawConfig = Object.fromEntries(Object.entries(raw).filter(([k]) => !V1_ONLY_KEYS.includes(k)));
  next.version = CONFIG_VERSION;
  if (typeof raw.apiUrl === 'string' && next.cloudUrl === undefined) next.cloudUrl = raw.apiUrl;
  if (apiKey) next.credentialStore = await storeToken(apiKey);

  let result = ConfigSchema.safeParse(next);
  for (let i = 0; !result.success && i < 50; i++) {
    const bad = result.error.issues[0]?.path[0];
    if (bad === undefined || bad === 'version' || bad === 'credentialStore') break;
    notices.push(`${file}: dropped the old setting ${String(bad)} (${result.error.issues[0]?.message})`);
    delete next[String(bad)];
    result = ConfigSchema.safeParse(next);
  }
  const { config, unknownKeys } = parseConfig(next, file);
  writeConfig(home, config, pick(next, unknownKeys));

  notices.push(
    apiKey
      ? `Upgraded ${file} to version ${CONFIG_VERSION}: the API key moved out of the file into ${storeName(config.credentialStore)}. Run \`canopy-node install\` to enable auto-start.`
      : `Upgraded ${file} to version ${CONFIG_VERSION}.`,
  );
  return { raw: { ...pick(next, unknownKeys), ...config }, notices };
}

function storeName(kind: CredentialStoreKind | null): string {
  return kind === 'keychain' ? 'the OS keychain' : 'an encrypted file (credential.enc)';
}
