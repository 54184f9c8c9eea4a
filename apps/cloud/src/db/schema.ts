import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  customType,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

// Enumerations are text columns with CHECK constraints rather than PostgreSQL enum types: they stay
// schema-local (tests isolate suites by schema) and adding a value is a plain migration.
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
/** bytea as a Buffer on both drivers (node-postgres gives a Buffer, PGlite a Uint8Array). */
const bytes = customType<{ data: Buffer; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => Buffer.from(value),
  toDriver: (value) => value,
});

/** spec 002 §21.1 */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: ['user', 'super_admin'] })
      .notNull()
      .default('user'),
    status: text('status', { enum: ['active', 'disabled'] })
      .notNull()
      .default('active'),
    emailVerifiedAt: ts('email_verified_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('users_email_key').on(t.email),
    index('users_created_at_idx').on(t.createdAt, t.id),
    check('users_role_check', sql`${t.role} in ('user', 'super_admin')`),
    check('users_status_check', sql`${t.status} in ('active', 'disabled')`),
  ],
);

/** spec 002 §21.2. `id` is the SHA-256 of the cookie's token: a stolen database holds no live session. */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
  },
  (t) => [index('sessions_user_id_idx').on(t.userId), index('sessions_expires_at_idx').on(t.expiresAt)],
);

/** spec 002 §21.11 */
export const emailVerificationTokens = pgTable(
  'email_verification_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    expiresAt: ts('expires_at').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    usedAt: ts('used_at'),
  },
  (t) => [
    uniqueIndex('email_verification_tokens_token_hash_key').on(t.tokenHash),
    index('evt_user_id_idx').on(t.userId),
  ],
);

/** spec 002 §21.12 */
export const passwordResetTokens = pgTable(
  'password_reset_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    expiresAt: ts('expires_at').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    usedAt: ts('used_at'),
  },
  (t) => [
    uniqueIndex('password_reset_tokens_token_hash_key').on(t.tokenHash),
    index('prt_user_id_idx').on(t.userId),
  ],
);

/**
 * spec 002 §21.13. `sending` marks a row claimed by a worker; a claim older than the stale limit is retried.
 * Secrets in `payload` (mail links) are redacted once the mail has been handed over.
 */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    toEmail: text('to_email').notNull(),
    template: text('template').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: ['queued', 'sending', 'sent', 'failed'] })
      .notNull()
      .default('queued'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('email_outbox_status_next_idx').on(t.status, t.nextAttemptAt),
    check('email_outbox_status_check', sql`${t.status} in ('queued', 'sending', 'sent', 'failed')`),
  ],
);

/** spec 002 §21.10 */
export const auditLogs = pgTable(
  'audit_logs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    actorUserId: uuid('actor_user_id').references(() => users.id, { onDelete: 'set null' }),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('audit_logs_created_at_idx').on(t.createdAt, t.id),
    index('audit_logs_action_idx').on(t.action, t.createdAt),
    index('audit_logs_actor_idx').on(t.actorUserId, t.createdAt),
    index('audit_logs_target_idx').on(t.targetId, t.createdAt),
  ],
);

/** Enrollment keys (`cnp_…`): made by a user, exchanged by a node for its agent token. Stored hashed. */
export const enrollmentKeys = pgTable(
  'enrollment_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    label: text('label'),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastUsedAt: ts('last_used_at'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [
    uniqueIndex('enrollment_keys_key_hash_key').on(t.keyHash),
    index('enrollment_keys_user_idx').on(t.userId),
  ],
);

/**
 * spec 002 §21.3 plus spec 000 §8: one row per canopy-node. Presence is derived: online while
 * `last_seen_at` is recent and no `going_offline` came after it (`offline_at`).
 */
export const agents = pgTable(
  'agents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    hostname: text('hostname').notNull(),
    os: text('os').notNull(),
    version: text('version').notNull(),
    fingerprint: text('fingerprint').notNull(),
    networkInterfaces: jsonb('network_interfaces').$type<unknown[]>().notNull().default([]),
    connectionType: text('connection_type', { enum: ['ws', 'poll'] }),
    state: text('state'),
    uptimeS: integer('uptime_s'),
    /** systemd, launchd or windows when a service manager runs the node ("always on"); null otherwise. */
    serviceKind: text('service_kind', { enum: ['systemd', 'launchd', 'windows'] }),
    lastSeenAt: ts('last_seen_at'),
    offlineAt: ts('offline_at'),
    /** Every queued message with a cursor ≤ this was acknowledged by the node. */
    ackedCursor: bigint('acked_cursor', { mode: 'number' }).notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    removedAt: ts('removed_at'),
  },
  (t) => [
    index('agents_user_idx').on(t.userId),
    check('agents_connection_type_check', sql`${t.connectionType} in ('ws', 'poll')`),
    check('agents_service_kind_check', sql`${t.serviceKind} in ('systemd', 'launchd', 'windows')`),
  ],
);

/**
 * spec 002 §21.4: hashes only. `agent` tokens (`cnt_…`) are the node's lasting credential; `session` tokens
 * (`cns_…`) live about an hour and authenticate the node's HTTP calls.
 */
export const agentTokens = pgTable(
  'agent_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['agent', 'session'] }).notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [
    uniqueIndex('agent_tokens_token_hash_key').on(t.tokenHash),
    index('agent_tokens_agent_idx').on(t.agentId),
    index('agent_tokens_expires_idx').on(t.expiresAt),
    check('agent_tokens_kind_check', sql`${t.kind} in ('agent', 'session')`),
  ],
);

/**
 * Tasks for a node (spec 000's v0.1 behaviour). `cursor` orders the node's message queue: a task with a
 * cursor above the agent's `acked_cursor` is still to be delivered.
 */
export const tasks = pgTable(
  'tasks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    cursor: bigserial('cursor', { mode: 'number' }).notNull(),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    type: text('type').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: text('status', {
      enum: ['queued', 'delivered', 'pending_approval', 'running', 'done', 'error', 'rejected', 'timeout'],
    })
      .notNull()
      .default('queued'),
    result: jsonb('result'),
    error: text('error'),
    createdAt: ts('created_at').notNull().defaultNow(),
    deliveredAt: ts('delivered_at'),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    uniqueIndex('tasks_cursor_key').on(t.cursor),
    index('tasks_agent_cursor_idx').on(t.agentId, t.cursor),
    index('tasks_agent_created_idx').on(t.agentId, t.createdAt),
    check(
      'tasks_status_check',
      sql`${t.status} in ('queued', 'delivered', 'pending_approval', 'running', 'done', 'error', 'rejected', 'timeout')`,
    ),
  ],
);

/** One row per physical dongle (spec 002 §21.5), made the first time any node reports it. */
export const dongles = pgTable(
  'dongles',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** 8 bytes as 16 lowercase hex characters. */
    deviceId: text('device_id').notNull(),
    /** A user who owns dongles cannot be deleted before they are unpaired (disabling is the usual path). */
    ownerUserId: uuid('owner_user_id').references(() => users.id),
    ownershipState: text('ownership_state', {
      enum: ['UNCLAIMED', 'CLAIMED_ACTIVE', 'RESET_DETECTED', 'SECURITY_HOLD'],
    })
      .notNull()
      .default('UNCLAIMED'),
    fwBuild: text('fw_build'),
    lastSeenAt: ts('last_seen_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('dongles_device_id_idx').on(t.deviceId),
    index('dongles_owner_idx').on(t.ownerUserId),
    check('dongles_device_id_check', sql`${t.deviceId} ~ '^[0-9a-f]{16}$'`),
    check(
      'dongles_ownership_state_check',
      sql`${t.ownershipState} in ('UNCLAIMED', 'CLAIMED_ACTIVE', 'RESET_DETECTED', 'SECURITY_HOLD')`,
    ),
    // UNCLAIMED has no owner and CLAIMED_ACTIVE has one; a hold or a detected reset may happen either way.
    check(
      'dongles_unclaimed_owner_check',
      sql`${t.ownershipState} <> 'UNCLAIMED' or ${t.ownerUserId} is null`,
    ),
    check(
      'dongles_claimed_owner_check',
      sql`${t.ownershipState} <> 'CLAIMED_ACTIVE' or ${t.ownerUserId} is not null`,
    ),
    // What a group member's composite foreign key points at: the dongle together with its owner.
    unique('dongles_id_owner_key').on(t.id, t.ownerUserId),
  ],
);

/** Where a dongle is seen: one row per (dongle, node), replaced by each of that node's reports. */
export const dongleSightings = pgTable(
  'dongle_sightings',
  {
    dongleId: uuid('dongle_id')
      .notNull()
      .references(() => dongles.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    lanIp: text('lan_ip').notNull(),
    udpPort: integer('udp_port').notNull(),
    iface: text('interface').notNull(),
    fwBuild: text('fw_build'),
    protoVer: integer('proto_ver'),
    capabilities: bigint('capabilities', { mode: 'number' }),
    pairingState: text('pairing_state', { enum: ['normal', 'pairing'] }).notNull(),
    online: boolean('online').notNull(),
    lastSeenAt: ts('last_seen_at').notNull(),
    reportedAt: ts('reported_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.dongleId, t.agentId] }),
    index('dongle_sightings_agent_idx').on(t.agentId),
    check('dongle_sightings_pairing_state_check', sql`${t.pairingState} in ('normal', 'pairing')`),
  ],
);

/**
 * A dongle's token, encrypted (spec 002 §20, §21.6): AES-256-GCM under master key `keyVersion`, a 12-byte
 * nonce, ciphertext with its 16-byte tag appended, AAD = dongle_id|user_id|created_at (ISO).
 */
export const dongleTokens = pgTable(
  'dongle_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    dongleId: uuid('dongle_id')
      .notNull()
      .references(() => dongles.id, { onDelete: 'cascade' }),
    /** The owner it was issued for (part of the AAD). */
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    keyVersion: integer('key_version').notNull(),
    nonce: bytes('nonce').notNull(),
    ciphertext: bytes('ciphertext').notNull(),
    createdAt: ts('created_at').notNull(),
    rotatedAt: ts('rotated_at'),
  },
  (t) => [
    uniqueIndex('dongle_tokens_dongle_idx').on(t.dongleId),
    index('dongle_tokens_key_version_idx').on(t.keyVersion),
    check('dongle_tokens_key_version_check', sql`${t.keyVersion} >= 1`),
    check('dongle_tokens_nonce_check', sql`octet_length(${t.nonce}) = 12`),
  ],
);

/** One "enter pairing mode" (spec 002 §11.2): 120 s, the dongle's nonce, wrong PINs counted. */
export const pairingSessions = pgTable(
  'pairing_sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    dongleId: uuid('dongle_id')
      .notNull()
      .references(() => dongles.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    /** open → submitting (a PIN is being checked) → open again, or paired / failed / expired. */
    state: text('state', { enum: ['open', 'submitting', 'paired', 'failed', 'expired'] })
      .notNull()
      .default('open'),
    nonce: bytes('nonce'),
    wrongPins: integer('wrong_pins').notNull().default(0),
    expiresAt: ts('expires_at').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    index('pairing_sessions_dongle_idx').on(t.dongleId, t.createdAt),
    check(
      'pairing_sessions_state_check',
      sql`${t.state} in ('open', 'submitting', 'paired', 'failed', 'expired')`,
    ),
  ],
);

/** A dongle's CAN configuration as its last ACK confirmed it (spec 002 §14, §21.8). */
export const canConfigs = pgTable(
  'can_configs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    dongleId: uuid('dongle_id')
      .notNull()
      .references(() => dongles.id, { onDelete: 'cascade' }),
    bitrate: integer('bitrate').notNull(),
    samplePointPermille: integer('sample_point_permille').notNull(),
    mode: text('mode', { enum: ['normal', 'listen_only', 'loopback', 'ext_loop'] }).notNull(),
    useRaw: boolean('use_raw').notNull(),
    prescaler: integer('prescaler').notNull(),
    sjw: integer('sjw').notNull(),
    tseg1: integer('tseg1').notNull(),
    tseg2: integer('tseg2').notNull(),
    autoRetx: boolean('auto_retx').notNull(),
    txPause: boolean('tx_pause').notNull(),
    protocolExc: boolean('protocol_exc').notNull(),
    appliedBy: uuid('applied_by').references(() => users.id, { onDelete: 'set null' }),
    appliedAt: ts('applied_at').notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('can_configs_dongle_idx').on(t.dongleId),
    check('can_configs_mode_check', sql`${t.mode} in ('normal', 'listen_only', 'loopback', 'ext_loop')`),
  ],
);

/** Command console invocations (spec 002 §16, §21.9): the id is the REMP corr_id end to end. */
export const commands = pgTable(
  'commands',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    dongleId: uuid('dongle_id')
      .notNull()
      .references(() => dongles.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id').references(() => agents.id, { onDelete: 'set null' }),
    command: text('command').notNull(),
    timeoutMs: integer('timeout_ms').notNull(),
    status: text('status', { enum: ['queued', 'running', 'done', 'error', 'timeout'] })
      .notNull()
      .default('queued'),
    stdout: text('stdout').notNull().default(''),
    stderr: text('stderr').notNull().default(''),
    exitCode: integer('exit_code'),
    truncated: boolean('truncated').notNull().default(false),
    error: text('error'),
    createdAt: ts('created_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    index('commands_dongle_created_idx').on(t.dongleId, t.createdAt),
    check('commands_status_check', sql`${t.status} in ('queued', 'running', 'done', 'error', 'timeout')`),
  ],
);

/**
 * Two dongles of one owner relayed to each other (spec 002 §13, §21.7). `dongle_a_id`/`dongle_b_id` say which
 * is which side; the rules (one group per dongle, one dongle per side, both the owner's) are kept by
 * dongle_group_members.
 */
export const dongleGroups = pgTable(
  'dongle_groups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerUserId: uuid('owner_user_id')
      .notNull()
      .references(() => users.id),
    name: text('name').notNull(),
    dongleAId: uuid('dongle_a_id')
      .notNull()
      .references(() => dongles.id),
    dongleBId: uuid('dongle_b_id')
      .notNull()
      .references(() => dongles.id),
    mode: text('mode', { enum: ['inactive', 'active', 'degraded'] })
      .notNull()
      .default('inactive'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    unique('dongle_groups_id_owner_key').on(t.id, t.ownerUserId),
    // spec 002 §21.7 has each side unique as well (dongle_group_members keeps the one-group rule across sides).
    unique('dongle_groups_dongle_a_key').on(t.dongleAId),
    unique('dongle_groups_dongle_b_key').on(t.dongleBId),
    index('dongle_groups_owner_idx').on(t.ownerUserId, t.createdAt),
    check('dongle_groups_mode_check', sql`${t.mode} in ('inactive', 'active', 'degraded')`),
    check('dongle_groups_distinct_check', sql`${t.dongleAId} <> ${t.dongleBId}`),
    check('dongle_groups_name_check', sql`char_length(${t.name}) between 1 and 80`),
  ],
);

/**
 * A group's two dongles, one row each. The primary key puts a dongle in at most one group; (group, side) is
 * unique; both foreign keys carry the owner, so a member is always its group owner's dongle — and a dongle
 * cannot lose its owner (unpair) while it is still in a group. Deleting a group deletes its members.
 */
export const dongleGroupMembers = pgTable(
  'dongle_group_members',
  {
    dongleId: uuid('dongle_id').primaryKey(),
    groupId: uuid('group_id').notNull(),
    ownerUserId: uuid('owner_user_id').notNull(),
    side: text('side', { enum: ['a', 'b'] }).notNull(),
  },
  (t) => [
    unique('dongle_group_members_group_side_key').on(t.groupId, t.side),
    check('dongle_group_members_side_check', sql`${t.side} in ('a', 'b')`),
    foreignKey({
      name: 'dongle_group_members_dongle_owner_fk',
      columns: [t.dongleId, t.ownerUserId],
      foreignColumns: [dongles.id, dongles.ownerUserId],
    }),
    foreignKey({
      name: 'dongle_group_members_group_owner_fk',
      columns: [t.groupId, t.ownerUserId],
      foreignColumns: [dongleGroups.id, dongleGroups.ownerUserId],
    }).onDelete('cascade'),
  ],
);
