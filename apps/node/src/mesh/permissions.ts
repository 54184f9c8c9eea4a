/**
 * Coarse permissions (spec 001 open question 2): `area:action`, with `area:*` granting every action of the
 * area. A device's owner never sees these names: the UI speaks of what a device can do.
 */
export const PERMISSIONS = {
  /** GET /health and the device's identity. */
  health: 'node:read',
  /** Receive a file into the inbox. */
  sendFile: 'files:write',
  /** Tell this node it was removed on the other side. */
  unpair: 'mesh:unpair',
} as const;

/** What each side grants the other at pairing. */
export const DEFAULT_GRANT: readonly string[] = ['node:read', 'files:write', 'media:*', 'mesh:unpair'];

export function hasPermission(granted: readonly string[], required: string): boolean {
  const [area, action] = required.split(':');
  if (!area || !action) return false;
  return granted.some((g) => g === required || g === `${area}:*`);
}
