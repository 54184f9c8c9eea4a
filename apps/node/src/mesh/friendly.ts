import type { ErrorCode, MeshErrorBody, MeshErrorCode } from '@canopy/protocol';

/** A code a mesh endpoint may answer with. */
export type MeshCode = MeshErrorCode | ErrorCode;

/**
 * Spec 001 phase 8: the one place where a mesh error code becomes what a person reads. Logs keep the
 * technical detail; these sentences never carry a token, an address or a permission name.
 */
const SENTENCES: Partial<Record<MeshCode, string>> & Record<MeshErrorCode, string> = {
  MESH_TOKEN_MISSING: 'Device not recognized',
  MESH_TOKEN_UNKNOWN: 'Device not recognized',
  MESH_TOKEN_EXPIRED: 'Device needs re-pairing',
  MESH_TOKEN_REVOKED: 'Device access removed',
  MESH_PERMISSION_DENIED: "Device can't do that",
  MESH_DEVICE_OFFLINE: 'Device is offline',
  MESH_DEVICE_UNKNOWN: 'Device not recognized',
  MESH_DEVICE_MISMATCH: "Couldn't connect to device",
  MESH_PAIRING_CODE_INVALID:
    'That pairing code has expired or was already used. Start again on the other device.',
  MESH_PAIRING_PIN_INVALID: "That PIN doesn't match.",
  MESH_PAIRING_CODE_DEAD: 'Too many wrong PINs. Start again on the other device.',
  MESH_OWNER_ONLY: 'Open this on the device itself.',
  PAYLOAD_TOO_LARGE: 'That file is too big to send.',
  RATE_LIMITED: 'Too many tries. Wait a few minutes and try again.',
  NOT_FOUND: 'Not found',
  VALIDATION_ERROR: 'Something is missing. Check what you entered and try again.',
};
export const FALLBACK_SENTENCE = 'Something went wrong';

export function friendlyMessage(code: MeshCode, details: Record<string, unknown> = {}): string {
  const sentence = SENTENCES[code] ?? FALLBACK_SENTENCE;
  if (code === 'MESH_PAIRING_PIN_INVALID' && typeof details.tries_left === 'number') {
    const n = details.tries_left;
    return `${sentence} ${n} ${n === 1 ? 'try' : 'tries'} left.`;
  }
  return sentence;
}

/** The error value every mesh endpoint returns: `details` holds only what the UI may show. */
export function meshError(code: MeshCode, details: Record<string, unknown> = {}): MeshErrorBody {
  return { code, message: friendlyMessage(code, details), details };
}

/** HTTP status for each code the mesh uses. */
export function statusOf(code: MeshCode): number {
  switch (code) {
    case 'MESH_TOKEN_MISSING':
    case 'MESH_TOKEN_UNKNOWN':
    case 'MESH_TOKEN_EXPIRED':
    case 'MESH_TOKEN_REVOKED':
      return 401;
    case 'MESH_PERMISSION_DENIED':
    case 'MESH_OWNER_ONLY':
      return 403;
    case 'MESH_PAIRING_CODE_INVALID':
    case 'MESH_PAIRING_CODE_DEAD':
      return 410;
    case 'MESH_PAIRING_PIN_INVALID':
      return 401;
    case 'NOT_FOUND':
    case 'MESH_DEVICE_UNKNOWN':
      return 404;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'RATE_LIMITED':
      return 429;
    case 'VALIDATION_ERROR':
      return 400;
    case 'MESH_DEVICE_OFFLINE':
    case 'MESH_DEVICE_MISMATCH':
      return 502;
    default:
      return 500;
  }
}
