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
