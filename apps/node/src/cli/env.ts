import os from 'node:os';
import path from 'node:path';
import type { StorePreference } from '../credential';
import { CliError, EXIT } from './errors';

/** Everything canopy-node takes from the environment, read here once and passed down. */
export interface NodeEnv {
  /** CANOPY_NODE_HOME, default ~/.canopy-node. */
  home: string;
  /** CANOPY_NODE_CREDENTIAL_STORE: auto (default), keychain or file. */
  credentialStore: StorePreference;
  /** Colours on the console: off with NO_COLOR or when stdout is not a terminal. */
  color: boolean;
}

export function parseEnv(env: Record<string, string | undefined>, stdoutIsTty = false): NodeEnv {
  const home = env.CANOPY_NODE_HOME?.trim()
    ? path.resolve(env.CANOPY_NODE_HOME.trim())
    : path.join(os.homedir(), '.canopy-node');
  const store = env.CANOPY_NODE_CREDENTIAL_STORE?.trim().toLowerCase() || 'auto';
  if (store !== 'auto' && store !== 'keychain' && store !== 'file') {
    throw new CliError(
      `CANOPY_NODE_CREDENTIAL_STORE must be auto, keychain or file (got "${env.CANOPY_NODE_CREDENTIAL_STORE}").`,
      EXIT.USAGE,
    );
  }
  return { home, credentialStore: store, color: stdoutIsTty && env.NO_COLOR === undefined };
}
