import type { NodeServiceKind } from '@canopy/protocol';

/** What a service runs: absolute paths of this install, and the environment it needs. */
export interface LaunchSpec {
  /** The node binary running now (process.execPath). */
  node: string;
  /** canopy-node's bin script of this install (realpath). */
  script: string;
  /** Variables the service sets: CANOPY_NODE_SERVICE always; CANOPY_NODE_HOME when not the default. */
  env: Record<string, string>;
}

/** The service manager's view of canopy-node. */
export interface ServiceState {
  installed: boolean;
  /** Starts at boot or login. */
  enabled: boolean;
  /** The service manager says it runs. */
  running: boolean;
  /** One line from the service manager, e.g. "active (running) since …" or "state = running, pid = 123". */
  detail: string;
  /** Where its definition lives. */
  file: string;
  /**
   * The installed definition differs from what this canopy-node would install now (it runs another
   * Node.js or another copy of canopy-node): `canopy-node install` updates it.
   */
  outdated: boolean;
}

/** One platform's service manager. Every method says what it did, line by line, or throws a CliError. */
export interface ServiceManager {
  /** e.g. "systemd user service". */
  readonly kind: string;
  /** The unit / plist / service definition file. */
  readonly file: string;
  install(): Promise<string[]>;
  uninstall(): Promise<string[]>;
  start(): Promise<string[]>;
  stop(): Promise<string[]>;
  restart(): Promise<string[]>;
  state(): Promise<ServiceState>;
}

/** CANOPY_NODE_SERVICE values: which manager started the daemon (the dashboard shows "always on"). */
export type ServiceKind = NodeServiceKind;
