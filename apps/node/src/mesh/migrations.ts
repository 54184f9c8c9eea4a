/**
 * The mesh store's schema, one numbered step per release that changes it. Applied in order at start inside a
 * transaction each; PRAGMA user_version records the last one applied, so upgrades keep the data.
 * Never edit a step that shipped: add the next one.
 */
export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'token_based_mesh',
    sql: `
      CREATE TABLE mesh_nodes (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'node',
        hostname TEXT NOT NULL DEFAULT '',
        port INTEGER,
        fingerprint TEXT,
        capabilities TEXT NOT NULL DEFAULT '[]',
        metadata TEXT NOT NULL DEFAULT '{}',
        paired_at INTEGER NOT NULL,
        last_seen_at INTEGER,
        archived_at INTEGER
      );
      CREATE TABLE current_node (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        node_id TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE issued_tokens (
        id INTEGER PRIMARY KEY,
        node_id TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        permissions TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
      );
      CREATE INDEX issued_tokens_node ON issued_tokens (node_id);
      CREATE TABLE peer_tokens (
        node_id TEXT PRIMARY KEY,
        token_sealed TEXT NOT NULL,
        permissions TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE discovery_cache (
        node_id TEXT PRIMARY KEY,
        reachable INTEGER NOT NULL,
        last_ping_at INTEGER NOT NULL,
        response_time_ms REAL,
        error_code TEXT
      );
      CREATE TABLE pairing_sessions (
        code_hash TEXT PRIMARY KEY,
        pin_hash TEXT NOT NULL,
        repair_for TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        used_at INTEGER
      );
      CREATE INDEX pairing_sessions_expiry ON pairing_sessions (expires_at);
    `,
  },
];
