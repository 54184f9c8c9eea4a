import { z } from 'zod';
import { ErrorCode } from './errors';

/** Spec 001: the messages between canopy-nodes (and phones) of one owner's device mesh. */

/** Coarse permissions, `area:action` or `area:*` (e.g. `files:write`, `media:*`). */
export const MeshPermission = z.string().regex(/^[a-z]+:(\*|[a-z_]+)$/, { message: 'must be area:action' });
export type MeshPermission = z.infer<typeof MeshPermission>;

/** A node (with a peer API) or a browser device (a phone that paired through its browser; no server). */
export const MeshDeviceKind = z.enum(['node', 'browser']);
export type MeshDeviceKind = z.infer<typeof MeshDeviceKind>;

/** Who a device says it is when it pairs. */
export const MeshNodeIdentity = z.object({
  node_id: z.string().min(1).max(100),
  name: z.string().min(1).max(100),
  kind: MeshDeviceKind.default('node'),
  /** Where its peer API listens (nodes only). */
  hostname: z.string().max(255).default(''),
  port: z.number().int().min(0).max(65535).nullable().default(null),
  /** SHA-256 fingerprint of its TLS certificate, pinned by the other side (nodes only). */
  fingerprint: z.string().max(200).nullable().default(null),
  capabilities: z.array(z.string().min(1).max(64)).max(32).default([]),
});
export type MeshNodeIdentity = z.infer<typeof MeshNodeIdentity>;

/**
 * POST /api/pair/verify: the joining device proves it saw the code and PIN, says who it is and, when it is a
 * node, hands over the token it issued to the other side (both directions in one handshake).
 */
export const MeshPairVerifyRequest = z.object({
  code: z.string().min(1).max(64),
  pin: z.string().min(1).max(16),
  node_identity: MeshNodeIdentity,
  grant: z
    .object({
      access_token: z.string().min(20).max(200),
      permissions: z.array(MeshPermission).max(32),
      expires_at: z.string(),
    })
    .nullable()
    .default(null),
});
export type MeshPairVerifyRequest = z.infer<typeof MeshPairVerifyRequest>;

/** What the answering node returns: itself, and the token the joiner uses to call it. */
export const MeshPeerNodeInfo = MeshNodeIdentity.extend({
  access_token: z.string().min(20).max(200),
  permissions: z.array(MeshPermission),
  expires_at: z.string(),
});
export type MeshPeerNodeInfo = z.infer<typeof MeshPeerNodeInfo>;

export const MeshPairVerifyResponse = z.object({ ok: z.literal(true), peer_node: MeshPeerNodeInfo });
export type MeshPairVerifyResponse = z.infer<typeof MeshPairVerifyResponse>;

/** GET /health with a peer token. */
export const MeshHealthResponse = z.object({
  ok: z.literal(true),
  node_id: z.string(),
  capabilities: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
});
export type MeshHealthResponse = z.infer<typeof MeshHealthResponse>;

/** A device's status as the owner sees it. */
export const MeshDeviceStatus = z.enum(['AVAILABLE', 'OFFLINE', 'NEEDS_REPAIR']);
export type MeshDeviceStatus = z.infer<typeof MeshDeviceStatus>;

/**
 * The mesh's own error codes, beside the API's (ErrorCode): they never reach the cloud or its dashboard, so
 * they are a separate enum; canopy-node maps each to one sentence in apps/node/src/mesh/friendly.ts.
 */
export const MeshErrorCode = z.enum([
  'MESH_TOKEN_MISSING',
  'MESH_TOKEN_UNKNOWN',
  'MESH_TOKEN_EXPIRED',
  'MESH_TOKEN_REVOKED',
  'MESH_PERMISSION_DENIED',
  'MESH_DEVICE_OFFLINE',
  'MESH_DEVICE_UNKNOWN',
  'MESH_DEVICE_MISMATCH',
  'MESH_PAIRING_CODE_INVALID',
  'MESH_PAIRING_PIN_INVALID',
  'MESH_PAIRING_CODE_DEAD',
  'MESH_OWNER_ONLY',
]);
export type MeshErrorCode = z.infer<typeof MeshErrorCode>;

/** Every non-2xx answer of the mesh's APIs: a mesh code, or a general one (VALIDATION_ERROR, RATE_LIMITED, …). */
export const MeshErrorBody = z.object({
  code: z.union([MeshErrorCode, ErrorCode]),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).default({}),
});
export type MeshErrorBody = z.infer<typeof MeshErrorBody>;
