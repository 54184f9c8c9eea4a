export { ConfigError } from './errors';
export { parseConfig, readRawConfig, updateConfig, writeConfig, writeFileAtomic } from './file';
export { migrateV1, needsMigration, type OpenedConfig, openConfig, type StoreToken } from './load';
export { homePaths } from './paths';
export { fixPermissions } from './permissions';
export {
  CONFIG_VERSION,
  type Config,
  ConfigSchema,
  CredentialStoreKind,
  DEFAULT_CLOUD_URL,
  DEFAULT_HEALTH_PORT,
  DEFAULT_MESH_PORT,
  DEFAULT_MESH_UI_PORT,
  defaultConfig,
  LogLevel,
  resolveWsUrl,
  TaskPolicy,
} from './schema';
