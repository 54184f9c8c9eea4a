import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations';
import { MeshStore } from './store';

const dirs: string[] = [];
const tempDb = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-mesh-store-'));
  dirs.push(dir);
  return path.join(dir, 'mesh.db');
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const peer = (id: string) => ({
  id,
  name: `Laptop ${id}`,
  kind: 'node' as const,
  hostname: '127.0.0.1',
  port: 9848,
  fingerprint: 'ab'.repeat(32),
  capabilities: ['always_on'],
  metadata: { platform: 'linux' },
  pairedAt: 1000,
});

describe('the mesh store', () => {
  it('applies every migration to a new file, with its tables and owner-only permissions', () => {
    const file = tempDb();
    const store = new MeshStore(file);
    expect(store.version).toBe(MIGRATIONS.at(-1)?.version);
    const tables = (
      store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
    )
      .map((t) => t.name)
      .sort();
    expect(tables).toEqual(
      [
        'current_node',
        'discovery_cache',
        'issued_tokens',
        'mesh_nodes',
        'pairing_sessions',
        'peer_tokens',
      ].sort(),
    );
    expect(fs.statSync(file).mode & 0o077).toBe(0);
    store.close();
  });

  it('keeps the data across a restart and does not re-run applied migrations', () => {
    const file = tempDb();
    const first = new MeshStore(file);
    first.upsertNode(peer('n1'), 1000);
    first.issueToken('n1', 'h'.repeat(64), ['files:write'], 1000, 2000);
    first.close();
    const again = new MeshStore(file);
    expect(again.getNode('n1')?.name).toBe('Laptop n1');
    expect(again.issuedByHash('h'.repeat(64))?.permissions).toEqual(['files:write']);
    again.close();
  });

  it('upgrades a file left at an older schema version', () => {
    const file = tempDb();
    const old = new Database(file);
    old.pragma('user_version = 0');
    old.close();
    const store = new MeshStore(file);
    expect(store.version).toBe(1);
    store.close();
  });

  it('finds an issued token by hash, revokes it, and keeps the row to tell revoked from unknown', () => {
    const store = new MeshStore(':memory:');
    store.issueToken('n1', 'a'.repeat(64), ['node:read'], 1, 100);
    expect(store.issuedByHash('a'.repeat(64))).toMatchObject({
      nodeId: 'n1',
      revokedAt: null,
      expiresAt: 100,
    });
    expect(store.revokeIssued('n1', 50)).toBe(1);
    expect(store.issuedByHash('a'.repeat(64))?.revokedAt).toBe(50);
    expect(store.issuedByHash('b'.repeat(64))).toBeNull();
  });

  it('lists peers without this node and archives stale ones instead of deleting them', () => {
    const store = new MeshStore(':memory:');
    store.setCurrentNode(peer('self'), 0);
    store.upsertNode(peer('old'), 10);
    store.upsertNode(peer('new'), 500);
    expect(store.listPeers().map((p) => p.id)).toEqual(['old', 'new']);
    expect(store.archiveStale(100, 600)).toEqual(['old']);
    expect(store.listPeers().map((p) => p.id)).toEqual(['new']);
    expect(store.listPeers({ includeArchived: true }).map((p) => p.id)).toEqual(['old', 'new']);
    expect(store.getNode('old')?.archivedAt).toBe(600);
  });
});
