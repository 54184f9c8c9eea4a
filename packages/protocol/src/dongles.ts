import { z } from 'zod';

/*
 * Dongles on the LAN (spec 002 §9–10, §21.5). canopy-node discovers them and reports what it sees; the cloud
 * keeps one row per device_id and one sighting per (dongle, node).
 */

/** A dongle's 8-byte id as 16 lowercase hex characters (the discovery TLV 0x01). */
export const DeviceId = z
  .string()
  .regex(/^[0-9a-f]{16}$/, { message: 'must be 16 lowercase hex characters' });

export const OwnershipState = z.enum(['UNCLAIMED', 'CLAIMED_ACTIVE', 'RESET_DETECTED', 'SECURITY_HOLD']);
export type OwnershipState = z.infer<typeof OwnershipState>;

export const PairingState = z.enum(['normal', 'pairing']);
export type PairingState = z.infer<typeof PairingState>;

const Ipv4 = z.ipv4({ message: 'must be a dotted IPv4 address' });

/** One dongle as one node sees it. */
export const SeenDongle = z.object({
  device_id: DeviceId,
  /** Its address as the interface that heard it reports it (ANNOUNCE lan_ip, else the sender's address). */
  lan_ip: Ipv4,
  /** The REMP port. */
  udp_port: z.number().int().min(1).max(65535),
  fw_build: z.string().max(100).nullable(),
  proto_ver: z.number().int().min(0).max(65535).nullable(),
  capabilities: z.number().int().min(0).max(0xffffffff).nullable(),
  pairing_state: PairingState,
  /** The node's interface it was heard on. */
  interface: z.string().min(1).max(64),
  /** False once it missed 3 scans in a row. */
  online: z.boolean(),
  last_seen_at: z.iso.datetime({ offset: true }),
  /**
   * The LAN address with the most rejected tokens at the dongle in the last minute, as the dongle announces
   * it (Canopy's discovery TLV 0x09, docs/remp.md); absent or null when there were none.
   */
  auth_failures: z
    .object({ lan_ip: Ipv4, per_minute: z.number().int().min(0).max(65535) })
    .nullable()
    .optional(),
});
export type SeenDongle = z.infer<typeof SeenDongle>;

/**
 * POST /api/v1/agents/devices/report, and the `dongle_report` WS frame: everything the node sees now (a
 * snapshot; a dongle the node no longer lists is no longer seen by it).
 */
export const DongleReport = z.object({ dongles: z.array(SeenDongle).max(512) });
export type DongleReport = z.infer<typeof DongleReport>;

export const DongleReportResponse = z.object({
  accepted: z.number().int().nonnegative(),
  /** Until when the node should scan fast (someone has the Dongles page open), or null. */
  fast_scan_until: z.string().nullable(),
});
export type DongleReportResponse = z.infer<typeof DongleReportResponse>;

/** Where a dongle is seen: one entry per node of the user that sees it. */
export const DongleSighting = z.object({
  agent_id: z.uuid(),
  agent_name: z.string(),
  lan_ip: z.string(),
  udp_port: z.number().int(),
  interface: z.string(),
  online: z.boolean(),
  pairing_state: PairingState,
  last_seen_at: z.string(),
});
export type DongleSighting = z.infer<typeof DongleSighting>;

export const Dongle = z.object({
  id: z.uuid(),
  device_id: DeviceId,
  /** True when the user owns it; false for an unclaimed one seen by the user's nodes. */
  owned: z.boolean(),
  ownership_state: OwnershipState,
  fw_build: z.string().nullable(),
  /** Seen online by at least one of the user's nodes. */
  online: z.boolean(),
  /** In pairing mode as its freshest sighting says. */
  pairing_state: PairingState,
  /** The freshest sighting's address. */
  lan_ip: z.string().nullable(),
  last_seen_at: z.string().nullable(),
  seen_by: z.array(DongleSighting),
  created_at: z.string(),
});
export type Dongle = z.infer<typeof Dongle>;

export const DonglesResponse = z.object({ dongles: z.array(Dongle) });
export type DonglesResponse = z.infer<typeof DonglesResponse>;
export const DongleResponse = z.object({ dongle: Dongle });
export type DongleResponse = z.infer<typeof DongleResponse>;

/** POST /api/v1/dongles/scan: asks the user's online nodes to scan now and fast for a while. */
export const ScanResponse = z.object({ nodes: z.number().int().nonnegative(), fast_scan_until: z.string() });
export type ScanResponse = z.infer<typeof ScanResponse>;

// ---- requests to a dongle through its node (cloud → node → REMP → node → cloud) ----

/** How many bytes a padded base64 string holds (no Buffer: this package runs in browsers too). */
const base64Bytes = (s: string) => (s.length / 4) * 3 - (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0);
const Base64 = (bytes: number) =>
  z
    .string()
    .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, { message: 'must be base64' })
    .refine((s) => base64Bytes(s) === bytes, { message: `must be ${bytes} bytes in base64` });

export const PairingStatus = z.enum(['ok', 'invalid_pin', 'cooldown', 'error']);
export type PairingStatus = z.infer<typeof PairingStatus>;
export const CanMode = z.enum(['normal', 'listen_only', 'loopback', 'ext_loop']);
export type CanMode = z.infer<typeof CanMode>;

/** The CAN configuration of spec 002 §14.1 (the API's and the node's shape). */
export const CanConfig = z.object({
  bitrate: z.number().int(),
  sample_point_permille: z.number().int(),
  mode: CanMode,
  use_raw: z.boolean(),
  prescaler: z.number().int(),
  sjw: z.number().int(),
  tseg1: z.number().int(),
  tseg2: z.number().int(),
  auto_retx: z.boolean(),
  tx_pause: z.boolean(),
  protocol_exc: z.boolean(),
});
export type CanConfig = z.infer<typeof CanConfig>;

/** What the cloud asks a node to do with one of its dongles. Tokens and PINs travel only here. */
export const DongleOp = z.discriminatedUnion('op', [
  z.object({ op: z.literal('pairing_start') }),
  z.object({
    op: z.literal('pairing_submit'),
    pin: z.string().regex(/^\d{6}$/),
    pairing_nonce: Base64(16),
    /** The token the dongle keeps from now on (32 bytes). */
    token: Base64(32),
  }),
  z.object({
    op: z.literal('can_config'),
    action: z.enum(['get', 'set']),
    token: Base64(32),
    config: CanConfig.optional(),
  }),
  z.object({
    op: z.literal('command'),
    corr_id: z.uuid(),
    command: z.string().min(1).max(1024),
    token: Base64(32),
    timeout_ms: z.number().int().min(1000).max(15_000),
  }),
]);
export type DongleOp = z.infer<typeof DongleOp>;

export const DongleRequestMessage = z.object({
  type: z.literal('dongle_request'),
  request_id: z.uuid(),
  device_id: DeviceId,
  request: DongleOp,
});
export type DongleRequestMessage = z.infer<typeof DongleRequestMessage>;

/** The answer of each op (ok: true), or why the node could not get one. */
export const DongleResult = z.union([
  z.object({
    op: z.literal('pairing_start'),
    status: PairingStatus,
    seconds: z.number().int(),
    pairing_nonce: z.string().nullable(),
  }),
  z.object({ op: z.literal('pairing_submit'), status: PairingStatus, seconds: z.number().int() }),
  z.object({
    op: z.literal('can_config'),
    status: z.enum(['ok', 'invalid', 'apply_failed']),
    auth_rejected: z.boolean(),
    config: CanConfig,
  }),
  z.object({
    op: z.literal('command'),
    status: z.enum(['ok', 'denied', 'error', 'timeout']),
    auth_rejected: z.boolean(),
    exit_code: z.number().int(),
    stdout: z.string(),
    stderr: z.string(),
    truncated: z.boolean(),
  }),
]);
export type DongleResult = z.infer<typeof DongleResult>;

/** Why a node could not talk to the dongle. */
export const DongleFailure = z.enum([
  'DONGLE_UNKNOWN',
  'DONGLE_TIMEOUT',
  'DISCOVERY_OFF',
  'BAD_REQUEST',
  'NODE_ERROR',
]);
export type DongleFailure = z.infer<typeof DongleFailure>;

export const DongleResponseMessage = z.object({
  type: z.literal('dongle_response'),
  request_id: z.uuid(),
  outcome: z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), result: DongleResult }),
    z.object({ ok: z.literal(false), code: DongleFailure, message: z.string().max(500) }),
  ]),
});
export type DongleResponseMessage = z.infer<typeof DongleResponseMessage>;

// ---- the owner's dongle API (spec 002 §11, §17.3) ----

export const PairingModeRequest = z.object({ action: z.literal('start') });
export const PairingModeResponse = z.object({
  dongle_id: z.uuid(),
  pairing_session_id: z.uuid(),
  expires_at: z.string(),
});
export type PairingModeResponse = z.infer<typeof PairingModeResponse>;

export const PairingSubmitRequest = z.object({
  pairing_session_id: z.uuid(),
  pin: z.string().regex(/^\d{6}$/, { message: 'must be the 6 digits the dongle shows' }),
  pairing_nonce: Base64(16).optional(),
  dongle_token: Base64(32).optional(),
});
export type PairingSubmitRequest = z.infer<typeof PairingSubmitRequest>;
export const PairingSubmitResponse = z.object({
  dongle_id: z.uuid(),
  paired: z.boolean(),
  owner_user_id: z.uuid(),
});
export type PairingSubmitResponse = z.infer<typeof PairingSubmitResponse>;

/** Bitrates a dongle accepts (spec 002 §14.1; the firmware's table). */
export const CAN_BITRATES = [
  10_000, 20_000, 50_000, 83_333, 100_000, 125_000, 250_000, 500_000, 800_000, 1_000_000,
] as const;

/** PUT /api/v1/dongles/:id/can-config: validated here before anything reaches a node. */
export const CanConfigRequest = CanConfig.extend({
  bitrate: z
    .number()
    .int()
    .refine((b) => (CAN_BITRATES as readonly number[]).includes(b), {
      message: `must be one of ${CAN_BITRATES.join(', ')}`,
    }),
  sample_point_permille: z.number().int().min(500).max(950),
  prescaler: z.number().int().min(1).max(1024),
  sjw: z.number().int().min(1).max(4),
  tseg1: z.number().int().min(1).max(16),
  tseg2: z.number().int().min(1).max(8),
}).refine((c) => !c.use_raw || c.sjw <= c.tseg2, { path: ['sjw'], message: 'must not exceed tseg2' });
export type CanConfigRequest = z.infer<typeof CanConfigRequest>;

export const CanConfigResponse = z.object({
  dongle_id: z.uuid(),
  applied: z.boolean(),
  /** What the dongle reports it runs now (its ACK). */
  effective: CanConfig,
  applied_at: z.string().nullable(),
  /** The dongle's own verdict: ok, invalid or apply_failed. */
  dongle_status: z.enum(['ok', 'invalid', 'apply_failed']),
});
export type CanConfigResponse = z.infer<typeof CanConfigResponse>;

export const CommandStatus = z.enum(['queued', 'running', 'done', 'error', 'timeout']);
export type CommandStatus = z.infer<typeof CommandStatus>;

/** POST /api/v1/dongles/:id/commands: `command` plus `args` must make one of the firmware's allowed lines. */
export const CommandRequest = z.object({
  command: z.string().trim().min(1).max(200),
  args: z.array(z.string().max(200)).max(16).default([]),
  timeout_ms: z.number().int().min(1000).max(15_000).default(5000),
});
export type CommandRequest = z.infer<typeof CommandRequest>;

export const Command = z.object({
  command_id: z.uuid(),
  dongle_id: z.uuid(),
  command: z.string(),
  status: CommandStatus,
  exit_code: z.number().int().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean(),
  error: z.string().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
export type Command = z.infer<typeof Command>;
export const CommandResponse = z.object({ command_id: z.uuid(), status: CommandStatus });
export const CommandsResponse = z.object({ commands: z.array(Command) });

// ---- admin (super_admin) ----

export const AdminDonglesQuery = z.object({
  state: OwnershipState.optional(),
  /** Part of a device id or of the owner's email. */
  q: z.string().trim().max(200).optional(),
});
export type AdminDonglesQuery = z.infer<typeof AdminDonglesQuery>;

export const AdminDongle = z.object({
  id: z.uuid(),
  device_id: DeviceId,
  ownership_state: OwnershipState,
  owner_user_id: z.uuid().nullable(),
  owner_email: z.string().nullable(),
  fw_build: z.string().nullable(),
  last_seen_at: z.string().nullable(),
  updated_at: z.string(),
});
export type AdminDongle = z.infer<typeof AdminDongle>;
export const AdminDonglesResponse = z.object({ dongles: z.array(AdminDongle) });
export type AdminDonglesResponse = z.infer<typeof AdminDonglesResponse>;
