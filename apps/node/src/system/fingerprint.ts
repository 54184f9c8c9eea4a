import { createHash } from 'node:crypto';

/**
 * `X-Canopy-Fingerprint`: sha-256 (hex) of the machine id and the node id, so the cloud can tell when a
 * token is used from another machine without learning the machine id itself. Registration happens before
 * the node has an id, so a node passes `null` there and everywhere after: the cloud compares with what it
 * stored at registration.
 */
export function fingerprint(machineId: string, nodeId: string | null): string {
  return createHash('sha256')
    .update(`canopy-node\n${machineId}\n${nodeId ?? ''}`)
    .digest('hex');
}
