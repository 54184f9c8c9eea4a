import fs from 'node:fs';
import path from 'node:path';
import type { MeshDeviceKind } from '@canopy/protocol';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations';

export interface MeshNodeRow {
  id: string;
  name: string;
  kind: MeshDeviceKind;
  hostname: string;
  port: number | null;
  fingerprint: string | null;
  capabilities: string[];
  metadata: Record<string, unknown>;
  pairedAt: number;
  lastSeenAt: number | null;
  archivedAt: number | null;
}

export interface IssuedTokenRow {
  id: number;
  nodeId: string;
  permissions: string[];
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface PeerTokenRow {
  nodeId: string;
  sealed: string;
  permissions: string[];
  expiresAt: number;
  createdAt: number;
}

export interface DiscoveryRow {
  nodeId: string;
  reachable: boolean;
  lastPingAt: number;
  responseTimeMs: number | null;
  errorCode: string | null;
}

export interface PairingRow {
  codeHash: string;
  pinHash: string;
  repairFor: string | null;
  createdAt: number;
  expiresAt: number;
  attempts: number;
  usedAt: number | null;
}

type Raw = Record<string, unknown>;
const json = <T>(text: unknown, fallback: T): T => {
  try {
    return JSON.parse(String(text)) as T;
  } catch {
    return fallback;
  }
};
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function nodeRow(r: Raw): MeshNodeRow {
  return {
    id: String(r.id),
    name: String(r.name),
    kind: r.kind === 'browser' ? 'browser' : 'node',
    hostname: String(r.hostname ?? ''),
    port: num(r.port),
    fingerprint: (r.fingerprint as string | null) ?? null,
    capabilities: json(r.capabilities, [] as string[]),
    metadata: json(r.metadata, {} as Record<string, unknown>),
    pairedAt: Number(r.paired_at),
    lastSeenAt: num(r.last_seen_at),
    archivedAt: num(r.archived_at),
  };
}

function issuedRow(r: Raw): IssuedTokenRow {
  return {
    id: Number(r.id),
    nodeId: String(r.node_id),
    permissions: json(r.permissions, [] as string[]),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    lastUsedAt: num(r.last_used_at),
    revokedAt: num(r.revoked_at),
  };
}

/** `<home>/mesh.db`: SQLite through better-sqlite3 (synchronous; each call is microseconds). */
export class MeshStore {
  readonly db: Database.Database;
  private readonly byHash: Database.Statement;
  private readonly touchToken: Database.Statement;

  constructor(file: string) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    if (file !== ':memory:') fs.chmodSync(file, 0o600);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.migrate();
    this.byHash = this.db.prepare(
      'SELECT id, node_id, permissions, created_at, expires_at, last_used_at, revoked_at FROM issued_tokens WHERE token_hash = ?',
    );
    this.touchToken = this.db.prepare(
      'UPDATE issued_tokens SET last_used_at = ?, expires_at = ? WHERE id = ?',
    );
  }

  /** The schema version after start (the last migration applied). */
  get version(): number {
    return Number(this.db.pragma('user_version', { simple: true }));
  }

  private migrate(): void {
    const current = this.version;
    for (const step of MIGRATIONS.filter((m) => m.version > current)) {
      this.db.transaction(() => {
        this.db.exec(step.sql);
        this.db.pragma(`user_version = ${step.version}`);
      })();
    }
  }

  close(): void {
    this.db.close();
  }

  // --- this node and its peers ---

  setCurrentNode(node: Omit<MeshNodeRow, 'lastSeenAt' | 'archivedAt'>, now: number): void {
    this.db.transaction(() => {
      this.upsertNode(node, now);
      this.db
        .prepare(
          'INSERT INTO current_node (id, node_id, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET node_id = excluded.node_id, updated_at = excluded.updated_at',
        )
        .run(node.id, now);
    })();
  }

  currentNodeId(): string | null {
    const row = this.db.prepare('SELECT node_id FROM current_node WHERE id = 1').get() as Raw | undefined;
    return row ? String(row.node_id) : null;
  }

  upsertNode(node: Omit<MeshNodeRow, 'lastSeenAt' | 'archivedAt'>, now: number): void {
    this.db
      .prepare(
        `INSERT INTO mesh_nodes (id, name, kind, hostname, port, fingerprint, capabilities, metadata, paired_at, last_seen_at)
         VALUES (@id, @name, @kind, @hostname, @port, @fingerprint, @capabilities, @metadata, @pairedAt, @now)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, hostname = excluded.hostname,
           port = excluded.port, fingerprint = excluded.fingerprint, capabilities = excluded.capabilities,
           metadata = excluded.metadata, last_seen_at = excluded.last_seen_at, archived_at = NULL`,
      )
      .run({
        ...node,
        capabilities: JSON.stringify(node.capabilities),
        metadata: JSON.stringify(node.metadata),
        now,
      });
  }

  getNode(id: string): MeshNodeRow | null {
    const row = this.db.prepare('SELECT * FROM mesh_nodes WHERE id = ?').get(id) as Raw | undefined;
    return row ? nodeRow(row) : null;
  }

  /** The paired devices: every node but this one, archived ones only when asked. */
  listPeers(options: { includeArchived?: boolean } = {}): MeshNodeRow[] {
    const self = this.currentNodeId() ?? '';
    const rows = this.db
      .prepare(
        `SELECT * FROM mesh_nodes WHERE id != ? ${options.includeArchived ? '' : 'AND archived_at IS NULL'} ORDER BY paired_at`,
      )
      .all(self) as Raw[];
    return rows.map(nodeRow);
  }

  /** A paired device's new address (it calls from there now). */
  moveNode(id: string, hostname: string): void {
    this.db.prepare('UPDATE mesh_nodes SET hostname = ? WHERE id = ?').run(hostname, id);
  }

  seen(id: string, now: number): void {
    this.db
      .prepare('UPDATE mesh_nodes SET last_seen_at = MAX(COALESCE(last_seen_at, 0), ?) WHERE id = ?')
      .run(now, id);
  }

  deleteNode(id: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM mesh_nodes WHERE id = ?').run(id);
      this.db.prepare('DELETE FROM peer_tokens WHERE node_id = ?').run(id);
      this.db.prepare('DELETE FROM discovery_cache WHERE node_id = ?').run(id);
    })();
  }

  /** Devices not seen since `before` are archived (kept, hidden), never deleted. Returns their ids. */
  archiveStale(before: number, now: number): string[] {
    const self = this.currentNodeId() ?? '';
    const rows = this.db
      .prepare(
        `SELECT id FROM mesh_nodes WHERE id != ? AND archived_at IS NULL AND COALESCE(last_seen_at, paired_at) < ?`,
      )
      .all(self, before) as Raw[];
    const archive = this.db.prepare('UPDATE mesh_nodes SET archived_at = ? WHERE id = ?');
    for (const r of rows) archive.run(now, r.id);
    return rows.map((r) => String(r.id));
  }

  // --- tokens this node issued (stored as SHA-256 hashes) ---

  issueToken(nodeId: string, tokenHash: string, permissions: string[], now: number, expiresAt: number): void {
    this.db
      .prepare(
        'INSERT INTO issued_tokens (node_id, token_hash, permissions, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(nodeId, tokenHash, JSON.stringify(permissions), now, expiresAt);
  }

  issuedByHash(tokenHash: string): IssuedTokenRow | null {
    const row = this.byHash.get(tokenHash) as Raw | undefined;
    return row ? issuedRow(row) : null;
  }

  markUsed(id: number, now: number, expiresAt: number): void {
    this.touchToken.run(now, expiresAt, id);
  }

  touchIssued(id: number, now: number): void {
    this.db
      .prepare('UPDATE issued_tokens SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?')
      .run(now, id);
  }

  /** Revokes every live token issued to a device; returns how many. */
  revokeIssued(nodeId: string, now: number): number {
    return this.db
      .prepare('UPDATE issued_tokens SET revoked_at = ? WHERE node_id = ? AND revoked_at IS NULL')
      .run(now, nodeId).changes;
  }

  listIssued(): IssuedTokenRow[] {
    return (this.db.prepare('SELECT * FROM issued_tokens ORDER BY id').all() as Raw[]).map(issuedRow);
  }

  /** The newest token issued to a device, live or not. */
  latestIssued(nodeId: string): IssuedTokenRow | null {
    const row = this.db
      .prepare('SELECT * FROM issued_tokens WHERE node_id = ? ORDER BY id DESC LIMIT 1')
      .get(nodeId) as Raw | undefined;
    return row ? issuedRow(row) : null;
  }

  // --- tokens other devices issued to this node (sealed: AES-256-GCM) ---

  putPeerToken(row: PeerTokenRow): void {
    this.db
      .prepare(
        `INSERT INTO peer_tokens (node_id, token_sealed, permissions, expires_at, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (node_id) DO UPDATE SET token_sealed = excluded.token_sealed, permissions = excluded.permissions,
           expires_at = excluded.expires_at, created_at = excluded.created_at`,
      )
      .run(row.nodeId, row.sealed, JSON.stringify(row.permissions), row.expiresAt, row.createdAt);
  }

  peerToken(nodeId: string): PeerTokenRow | null {
    const r = this.db.prepare('SELECT * FROM peer_tokens WHERE node_id = ?').get(nodeId) as Raw | undefined;
    return r ? this.peerRow(r) : null;
  }

  listPeerTokens(): PeerTokenRow[] {
    return (this.db.prepare('SELECT * FROM peer_tokens ORDER BY node_id').all() as Raw[]).map((r) =>
      this.peerRow(r),
    );
  }

  setPeerTokenExpiry(nodeId: string, expiresAt: number): void {
    this.db.prepare('UPDATE peer_tokens SET expires_at = ? WHERE node_id = ?').run(expiresAt, nodeId);
  }

  deletePeerToken(nodeId: string): void {
    this.db.prepare('DELETE FROM peer_tokens WHERE node_id = ?').run(nodeId);
  }

  private peerRow(r: Raw): PeerTokenRow {
    return {
      nodeId: String(r.node_id),
      sealed: String(r.token_sealed),
      permissions: json(r.permissions, [] as string[]),
      expiresAt: Number(r.expires_at),
      createdAt: Number(r.created_at),
    };
  }

  // --- reachability ---

  recordPing(row: DiscoveryRow): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO discovery_cache (node_id, reachable, last_ping_at, response_time_ms, error_code)
         VALUES (?, ?, ?, ?, ?)`,
      )
      .run(row.nodeId, row.reachable ? 1 : 0, row.lastPingAt, row.responseTimeMs, row.errorCode);
  }

  discovery(nodeId: string): DiscoveryRow | null {
    const r = this.db.prepare('SELECT * FROM discovery_cache WHERE node_id = ?').get(nodeId) as
      | Raw
      | undefined;
    if (!r) return null;
    return {
      nodeId: String(r.node_id),
      reachable: Number(r.reachable) === 1,
      lastPingAt: Number(r.last_ping_at),
      responseTimeMs: num(r.response_time_ms),
      errorCode: (r.error_code as string | null) ?? null,
    };
  }

  // --- pairing sessions ---

  createPairing(row: Omit<PairingRow, 'attempts' | 'usedAt'>): void {
    this.db
      .prepare(
        'INSERT INTO pairing_sessions (code_hash, pin_hash, repair_for, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(row.codeHash, row.pinHash, row.repairFor, row.createdAt, row.expiresAt);
  }

  pairing(codeHash: string): PairingRow | null {
    const r = this.db.prepare('SELECT * FROM pairing_sessions WHERE code_hash = ?').get(codeHash) as
      | Raw
      | undefined;
    if (!r) return null;
    return {
      codeHash: String(r.code_hash),
      pinHash: String(r.pin_hash),
      repairFor: (r.repair_for as string | null) ?? null,
      createdAt: Number(r.created_at),
      expiresAt: Number(r.expires_at),
      attempts: Number(r.attempts),
      usedAt: num(r.used_at),
    };
  }

  setPairingAttempts(codeHash: string, attempts: number): void {
    this.db.prepare('UPDATE pairing_sessions SET attempts = ? WHERE code_hash = ?').run(attempts, codeHash);
  }

  usePairing(codeHash: string, now: number): void {
    this.db.prepare('UPDATE pairing_sessions SET used_at = ? WHERE code_hash = ?').run(now, codeHash);
  }

  /** Pairing sessions are only needed while they live (plus a day for the record). */
  purgePairings(before: number): void {
    this.db.prepare('DELETE FROM pairing_sessions WHERE expires_at < ?').run(before);
  }
}
