import type { MeshDeviceKind, MeshDeviceStatus } from '@canopy/protocol';

/** A phone in a browser has no server to ping: it counts as available while it called in lately. */
export const BROWSER_FRESH_MS = 2 * 60_000;
/** Errors from a peer that mean our token for it no longer works: the user must pair again. */
const REPAIR_CODES = new Set(['MESH_TOKEN_EXPIRED', 'MESH_TOKEN_REVOKED', 'MESH_TOKEN_UNKNOWN']);

export interface StatusInput {
  kind: MeshDeviceKind;
  lastSeenAt: number | null;
  /** Our token for calling the device (nodes only): null when we hold none. */
  peerTokenExpiresAt: number | null;
  /** The token we issued to the device. */
  issuedExpiresAt: number | null;
  issuedRevoked: boolean;
  lastPing: { reachable: boolean; errorCode: string | null } | null;
}

/** Spec 001 phase 11: ● Available, ○ Offline, ⚠ Needs re-pairing. */
export function deviceStatus(d: StatusInput, now: number): MeshDeviceStatus {
  if (d.issuedRevoked || (d.issuedExpiresAt !== null && d.issuedExpiresAt <= now)) return 'NEEDS_REPAIR';
  if (d.kind === 'browser') {
    return d.lastSeenAt !== null && now - d.lastSeenAt < BROWSER_FRESH_MS ? 'AVAILABLE' : 'OFFLINE';
  }
  if (d.peerTokenExpiresAt === null || d.peerTokenExpiresAt <= now) return 'NEEDS_REPAIR';
  if (d.lastPing?.errorCode && REPAIR_CODES.has(d.lastPing.errorCode)) return 'NEEDS_REPAIR';
  return d.lastPing?.reachable ? 'AVAILABLE' : 'OFFLINE';
}

/** What a capability means to a person (spec 001 phase 11: "Can store media", not "media.storage"). */
const LABELS: Record<string, string> = {
  'media.storage': 'Can store media',
  'media.transcode': 'Can process video',
  always_on: 'Always on',
  'files.receive': 'Can receive files',
  browser: 'Phone or browser',
};

/** Friendly names of the capabilities a person would care about; unknown ones are left out. */
export function capabilityLabels(capabilities: readonly string[]): string[] {
  return capabilities.flatMap((c) => (LABELS[c] ? [LABELS[c]] : []));
}
