import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../config';

/** `<home>/node_identity.json` (spec 001 phase 3): who this node is to its peers, kept across upgrades. */
export const NodeIdentity = z.object({
  id: z.string().min(1).max(100),
  name: z.string().min(1).max(100),
  created_at: z.string(),
});
export type NodeIdentity = z.infer<typeof NodeIdentity>;

export const identityFile = (home: string) => path.join(home, 'node_identity.json');

/** RFC 9562 UUID version 7: 48 bits of Unix milliseconds, then random bits; sorts by creation time. */
export function uuidv7(now = Date.now(), random: Buffer = randomBytes(10)): string {
  const b = Buffer.alloc(16);
  b.writeUIntBE(now, 0, 6);
  random.copy(b, 6, 0, 10);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x70;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function defaultNodeName(hostname = os.hostname()): string {
  const name = hostname.split('.')[0]?.trim() ?? '';
  return name ? name.slice(0, 100) : 'Canopy node';
}

/**
 * Reads the identity, or creates it: the id is the one the cloud gave this node when it is set up (so the
 * node is one and the same device to its cloud and its peers), else a new UUIDv7.
 */
export function loadOrCreateIdentity(
  home: string,
  options: { cloudNodeId?: string | null; name?: string | null; now?: number } = {},
): NodeIdentity {
  const file = identityFile(home);
  if (fs.existsSync(file)) {
    const parsed = NodeIdentity.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (parsed.success) return parsed.data;
    throw new Error(
      `${file} is damaged: move it away to give this node a new identity (its devices must pair again)`,
    );
  }
  const identity: NodeIdentity = {
    id: options.cloudNodeId ?? uuidv7(options.now),
    name: options.name ?? defaultNodeName(),
    created_at: new Date(options.now ?? Date.now()).toISOString(),
  };
  saveIdentity(home, identity);
  return identity;
}

export function saveIdentity(home: string, identity: NodeIdentity): void {
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileAtomic(identityFile(home), `${JSON.stringify(NodeIdentity.parse(identity), null, 2)}\n`);
}
