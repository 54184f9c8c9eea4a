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
  /** Overrides of config.json `discovery`, and the debug switch. */
  discovery: DiscoveryEnv;
  /** CANOPY_MESH (on/off): overrides config.json `mesh.enabled`; the tests turn the mesh off with it. */
  mesh?: boolean;
}

/**
 * CANOPY_DISCOVERY (on/off), CANOPY_DISCOVERY_INTERFACES (comma-separated names, e.g. `lo` — broadcasts to
 * 127.255.255.255 and never leaves the machine), CANOPY_DISCOVERY_PORT, BRIDGE_AGENT_DEBUG_DISCOVERY=1.
 */
export interface DiscoveryEnv {
  enabled?: boolean;
  interfaces?: string[];
  port?: number;
  debug: boolean;
}

const ON = ['1', 'on', 'true', 'yes'];
const OFF = ['0', 'off', 'false', 'no'];

function parseDiscoveryEnv(env: Record<string, string | undefined>): DiscoveryEnv {
  const out: DiscoveryEnv = {
    debug: ON.includes(env.BRIDGE_AGENT_DEBUG_DISCOVERY?.trim().toLowerCase() ?? ''),
  };
  const enabled = env.CANOPY_DISCOVERY?.trim().toLowerCase();
  if (enabled) {
    if (!ON.includes(enabled) && !OFF.includes(enabled)) {
      throw new CliError(`CANOPY_DISCOVERY must be on or off (got "${env.CANOPY_DISCOVERY}").`, EXIT.USAGE);
    }
    out.enabled = ON.includes(enabled);
  }
  const names = env.CANOPY_DISCOVERY_INTERFACES?.split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names && names.length > 0) {
    const bad = names.find((n) => n.length > 64 || !/^[\w.:@-]+$/.test(n));
    if (bad !== undefined) {
      throw new CliError(`CANOPY_DISCOVERY_INTERFACES: "${bad}" is not an interface name.`, EXIT.USAGE);
    }
    out.interfaces = names;
  }
  const port = env.CANOPY_DISCOVERY_PORT?.trim();
  if (port) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw new CliError(`CANOPY_DISCOVERY_PORT must be a port from 1 to 65535 (got "${port}").`, EXIT.USAGE);
    }
    out.port = n;
  }
  return out;
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
  return {
    home,
    credentialStore: store,
    color: stdoutIsTty && env.NO_COLOR === undefined,
    discovery: parseDiscoveryEnv(env),
    mesh: parseSwitch('CANOPY_MESH', env.CANOPY_MESH),
  };
}

function parseSwitch(name: string, value: string | undefined): boolean | undefined {
  const v = value?.trim().toLowerCase();
  if (!v) return undefined;
  if (ON.includes(v)) return true;
  if (OFF.includes(v)) return false;
  throw new CliError(`${name} must be on or off (got "${value}").`, EXIT.USAGE);
}
