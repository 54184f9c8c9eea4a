import { TaskType } from '@canopy/protocol';
import { z } from 'zod';

export const CONFIG_VERSION = 2;
export const DEFAULT_CLOUD_URL = 'http://localhost:8080';
export const DEFAULT_HEALTH_PORT = 9847;
export const DEFAULT_MESH_PORT = 9848;
export const DEFAULT_MESH_UI_PORT = 9849;

const url = (protocols: string[]) =>
  z.string().refine((value) => URL.canParse(value) && protocols.includes(new URL(value).protocol), {
    message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  });

export const LogLevel = z.enum(['debug', 'info', 'warn', 'error']);
export type LogLevel = z.infer<typeof LogLevel>;

export const TaskPolicy = z.enum(['approve_each', 'allowlist', 'trusted']);
export type TaskPolicy = z.infer<typeof TaskPolicy>;

export const CredentialStoreKind = z.enum(['keychain', 'file']);
export type CredentialStoreKind = z.infer<typeof CredentialStoreKind>;

/** `<home>/config.json`, version 2. Unknown keys are kept in the file and reported as warnings. */
export const ConfigSchema = z.object({
  version: z.literal(CONFIG_VERSION),
  /** Assigned by the cloud at `setup`. */
  nodeId: z.string().min(1).nullable().default(null),
  nodeName: z.string().min(1).max(100).nullable().default(null),
  cloudUrl: url(['http:', 'https:']).default(DEFAULT_CLOUD_URL),
  /** null: derived from cloudUrl (see resolveWsUrl). */
  wsUrl: url(['ws:', 'wss:']).nullable().default(null),
  logLevel: LogLevel.default('info'),
  logMaxFiles: z.number().int().min(1).max(365).default(7),
  logMaxSizeMb: z.number().int().min(1).max(1024).default(10),
  /** 0 disables the health endpoint. */
  healthPort: z.number().int().min(0).max(65535).default(DEFAULT_HEALTH_PORT),
  enablePollingFallback: z.boolean().default(true),
  features: z.record(z.string(), z.boolean()).default({}),
  tasks: z
    .object({
      policy: TaskPolicy.default('allowlist'),
      allowlist: z
        .object({
          /** Read-only tasks run without asking by default (the tasks module's own default too). */
          types: z.array(TaskType).default(['status_ping', 'system_info', 'file_read']),
          /** Command names (the first word of a simple shell command). */
          shellCommands: z
            .array(z.string().regex(/^\S+$/, { message: 'must be one word (the command name)' }))
            .default([]),
        })
        .prefault({}),
      workspaceRoot: z.string().min(1).nullable().default(null),
    })
    .prefault({}),
  /** Dongles on the LAN (spec 002 §10); CANOPY_DISCOVERY* variables override these. */
  discovery: z
    .object({
      enabled: z.boolean().default(true),
      /** Only these interfaces (loopback allowed); null: every eligible one. */
      interfaces: z.array(z.string().min(1).max(64)).min(1).nullable().default(null),
      /** Where dongles listen for DISCOVER. */
      port: z.number().int().min(1).max(65535).default(50000),
    })
    .prefault({}),
  /** The device mesh (spec 001, docs/mesh.md); CANOPY_MESH=off turns it off. */
  mesh: z
    .object({
      enabled: z.boolean().default(true),
      /** Where the HTTPS peer API and the phones' pairing page listen (the LAN). */
      host: z.string().min(1).max(255).default('0.0.0.0'),
      port: z.number().int().min(0).max(65535).default(DEFAULT_MESH_PORT),
      /** The owner's page (My Devices), HTTP on 127.0.0.1 only. */
      uiPort: z.number().int().min(0).max(65535).default(DEFAULT_MESH_UI_PORT),
      /** The address put into pairing links; null: this machine's first LAN IPv4 address. */
      advertiseHost: z.string().min(1).max(255).nullable().default(null),
      /** What this node offers its devices (shown as "Can receive files", "Always on", …). */
      capabilities: z.array(z.string().min(1).max(64)).max(32).default(['files.receive', 'always_on']),
      /** The largest file a device may send into the inbox. */
      maxFileMb: z.number().int().min(1).max(102_400).default(100),
      /** null: <home>/inbox. */
      inbox: z.string().min(1).nullable().default(null),
    })
    .prefault({}),
  /** Which store holds the agent token; null until `setup`. */
  credentialStore: CredentialStoreKind.nullable().default(null),
});
export type Config = z.infer<typeof ConfigSchema>;

/** The settings of a fresh home. */
export function defaultConfig(): Config {
  return ConfigSchema.parse({ version: CONFIG_VERSION });
}

/** ws(s)://<cloud>/ws/agent unless the cloud told us otherwise at registration. */
export function resolveWsUrl(config: Pick<Config, 'cloudUrl' | 'wsUrl'>): string {
  if (config.wsUrl) return config.wsUrl;
  const u = new URL(config.cloudUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/ws/agent`;
  u.search = '';
  u.hash = '';
  return u.toString();
}
