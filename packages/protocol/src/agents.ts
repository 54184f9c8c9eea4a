import { z } from 'zod';
import { DongleReport, DongleRequestMessage, DongleResponseMessage } from './dongles';

/*
 * canopy-node ↔ canopy-cloud (spec 000, spec 002 §9.2, §17.3 Agents).
 *
 * Credentials, from long- to short-lived:
 * - enrollment key `cnp_…`: made by a user on the Nodes page, shown once; exchanged once for an agent token;
 * - agent token `cnt_…`: the node's lasting credential (keychain); opens WS /ws/agent and refreshes;
 * - session token `cns_…`: from `welcome` or /agents/token/refresh, ~60 min; authenticates heartbeat, poll
 *   and task updates over HTTP.
 * Every node request carries `Authorization: Bearer <token>` and `X-Canopy-Fingerprint: <hex sha-256 of
 * machine id + node id>`. Tokens never travel in a URL.
 */

export const ENROLLMENT_KEY_PREFIX = 'cnp_';
export const AGENT_TOKEN_PREFIX = 'cnt_';
export const SESSION_TOKEN_PREFIX = 'cns_';
export const FINGERPRINT_HEADER = 'x-canopy-fingerprint';
/**
 * On a WebSocket upgrade: when the node started this attempt (its clock, ms since the epoch, increasing within
 * a process). Of two connections of one node the later attempt wins; the cloud cannot tell from when it reads
 * the request, since under load an abandoned attempt's request can reach it after the next one's.
 */
export const ATTEMPT_HEADER = 'x-canopy-attempt';

let lastAttempt = 0;
/** The value of ATTEMPT_HEADER for a new attempt: the time, and always above the previous one. */
export function attemptStamp(now: number = Date.now()): number {
  lastAttempt = Math.max(Math.floor(now), lastAttempt + 1);
  return lastAttempt;
}

/** WebSocket close codes of /ws/agent. */
export const AgentCloseCode = {
  /** A newer connection of the same agent took over: do not reconnect to fight it. */
  REPLACED: 4000,
  /** The agent token is unknown or revoked, or the node was removed: the node needs re-enrollment. */
  REVOKED: 4003,
  /** Nothing heard from the node for 90 s. */
  IDLE_TIMEOUT: 4008,
  /** The server is shutting down; reconnect (with backoff). */
  GOING_AWAY: 1001,
} as const;

export const Fingerprint = z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 hex characters' });

// ---- enrollment keys (dashboard) ----

export const EnrollmentKey = z.object({
  id: z.uuid(),
  label: z.string().nullable(),
  /** The first characters of the key, to recognise it; the key itself is shown once. */
  prefix: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export type EnrollmentKey = z.infer<typeof EnrollmentKey>;

export const CreateEnrollmentKeyRequest = z.object({ label: z.string().trim().max(100).optional() });
export const CreateEnrollmentKeyResponse = z.object({ key: EnrollmentKey, secret: z.string() });
export type CreateEnrollmentKeyResponse = z.infer<typeof CreateEnrollmentKeyResponse>;
export const EnrollmentKeysResponse = z.object({ keys: z.array(EnrollmentKey) });
export type EnrollmentKeysResponse = z.infer<typeof EnrollmentKeysResponse>;

// ---- registration ----

/** What a node tells about its interfaces: names and addresses, nothing else (no MACs). */
export const NetworkInterfaceSummary = z.object({
  name: z.string().max(64),
  family: z.enum(['IPv4', 'IPv6']),
  address: z.string().max(64),
  cidr: z.string().max(70).nullable(),
  internal: z.boolean(),
});
export type NetworkInterfaceSummary = z.infer<typeof NetworkInterfaceSummary>;

export const RegisterRequest = z.object({
  enrollment_key: z.string().min(10).max(200),
  hostname: z.string().trim().min(1).max(255),
  /** How the node is shown; the hostname when absent. */
  name: z.string().trim().min(1).max(100).optional(),
  os: z.string().trim().min(1).max(100),
  version: z.string().trim().min(1).max(50),
  network_interfaces: z.array(NetworkInterfaceSummary).max(64).default([]),
  fingerprint: Fingerprint,
});
export type RegisterRequest = z.infer<typeof RegisterRequest>;

export const RegisterResponse = z.object({ agent_id: z.uuid(), agent_token: z.string(), ws_url: z.string() });
export type RegisterResponse = z.infer<typeof RegisterResponse>;

export const SessionTokenResponse = z.object({ token: z.string(), expires_at: z.string() });
export type SessionTokenResponse = z.infer<typeof SessionTokenResponse>;

// ---- tasks ----

export const TaskType = z.enum(['shell', 'file_read', 'file_write', 'system_info', 'status_ping']);
export type TaskType = z.infer<typeof TaskType>;

/** Each task type with its payload; `timeout_ms` is capped by the node's own limits. */
export const TaskSpec = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('shell'),
    payload: z.object({
      command: z.string().min(1).max(10_000),
      cwd: z.string().max(1000).optional(),
      timeout_ms: z.number().int().min(100).max(3_600_000).optional(),
    }),
  }),
  z.object({ type: z.literal('file_read'), payload: z.object({ path: z.string().min(1).max(1000) }) }),
  z.object({
    type: z.literal('file_write'),
    payload: z.object({
      path: z.string().min(1).max(1000),
      content: z.string().max(10 * 1024 * 1024),
      encoding: z.enum(['utf8', 'base64']).default('utf8'),
    }),
  }),
  z.object({ type: z.literal('system_info'), payload: z.object({}).default({}) }),
  z.object({ type: z.literal('status_ping'), payload: z.object({}).default({}) }),
]);
export type TaskSpec = z.infer<typeof TaskSpec>;

/**
 * queued: waiting for the node; delivered: the node has it; pending_approval: waiting for the node's owner
 * (`canopy-node approve`); running; then one of done | error | rejected | timeout.
 */
export const TaskStatus = z.enum([
  'queued',
  'delivered',
  'pending_approval',
  'running',
  'done',
  'error',
  'rejected',
  'timeout',
]);
export type TaskStatus = z.infer<typeof TaskStatus>;
export const FINAL_TASK_STATUSES = ['done', 'error', 'rejected', 'timeout'] as const;

export const Task = z.object({
  id: z.uuid(),
  agent_id: z.uuid(),
  type: TaskType,
  payload: z.record(z.string(), z.unknown()),
  status: TaskStatus,
  result: z.unknown().nullable(),
  error: z.string().nullable(),
  created_at: z.string(),
  delivered_at: z.string().nullable(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
export type Task = z.infer<typeof Task>;

export const TaskResponse = z.object({ task: Task });
export const TasksResponse = z.object({ tasks: z.array(Task) });

/** A node reports progress and the result of a task, over WS (`task_update`) or HTTP. */
export const TaskUpdate = z.object({
  task_id: z.uuid(),
  status: z.enum(['pending_approval', 'running', 'done', 'error', 'rejected', 'timeout']),
  result: z.unknown().optional(),
  error: z.string().max(10_000).optional(),
});
export type TaskUpdate = z.infer<typeof TaskUpdate>;

// ---- messages: cloud → node (WS frames; the `task` ones also through the poll) ----

export const WelcomeMessage = z.object({
  type: z.literal('welcome'),
  agent_id: z.uuid(),
  name: z.string(),
  token: z.string(),
  expires_at: z.string(),
  server_time: z.string(),
});
export type WelcomeMessage = z.infer<typeof WelcomeMessage>;

/** A queued message: `cursor` increases per agent; acknowledging cursor N acknowledges everything ≤ N. */
export const TaskMessage = z.object({
  type: z.literal('task'),
  cursor: z.number().int().positive(),
  task: z.object({
    id: z.uuid(),
    type: TaskType,
    payload: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  }),
});
export type TaskMessage = z.infer<typeof TaskMessage>;

/** The cloud stored a task update; the node stops re-sending it. */
export const UpdateAckMessage = z.object({
  type: z.literal('update_ack'),
  task_id: z.uuid(),
  status: TaskStatus,
});

/** Scan for dongles now, and every 2–5 s until `fast_until` (someone has the Dongles page open). */
export const ScanRequestMessage = z.object({ type: z.literal('scan_request'), fast_until: z.string() });

export const CloudMessage = z.discriminatedUnion('type', [
  WelcomeMessage,
  TaskMessage,
  UpdateAckMessage,
  ScanRequestMessage,
  DongleRequestMessage,
]);
export type CloudMessage = z.infer<typeof CloudMessage>;

// ---- messages: node → cloud (WS frames) ----

export const AckMessage = z.object({ type: z.literal('ack'), cursor: z.number().int().nonnegative() });
export const TaskUpdateMessage = TaskUpdate.extend({ type: z.literal('task_update') });
export const GoingOfflineMessage = z.object({
  type: z.literal('going_offline'),
  reason: z.string().max(200).optional(),
});
/** The node's dongle snapshot (the same body as POST /agents/devices/report). */
export const DongleReportMessage = DongleReport.extend({ type: z.literal('dongle_report') });
export const NodeMessage = z.discriminatedUnion('type', [
  AckMessage,
  TaskUpdateMessage,
  GoingOfflineMessage,
  DongleReportMessage,
  DongleResponseMessage,
]);
export type NodeMessage = z.infer<typeof NodeMessage>;

// ---- HTTP for nodes (session token) ----

/** Which service manager runs the node (`canopy-node install`); absent when it runs in a terminal. */
export const NodeServiceKind = z.enum(['systemd', 'launchd', 'windows']);
export type NodeServiceKind = z.infer<typeof NodeServiceKind>;

export const HeartbeatRequest = z.object({
  state: z.string().max(40),
  uptime_s: z.number().nonnegative(),
  version: z.string().max(50).optional(),
  /** Set when a service manager runs the node: the dashboard shows it as "always on". */
  service: NodeServiceKind.nullable().optional(),
});
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;
export const HeartbeatResponse = z.object({ server_time: z.string() });

/** GET /api/v1/agents/poll?cursor=N: acknowledges ≤ N, waits up to 25 s for anything newer. */
export const PollQuery = z.object({
  cursor: z.coerce.number().int().nonnegative().default(0),
  wait_s: z.coerce.number().int().min(0).max(25).default(25),
});
export const PollResponse = z.object({
  messages: z.array(TaskMessage),
  cursor: z.number().int().nonnegative(),
  /** As in the heartbeat answer: scan for dongles every 2–5 s until then (a poll also ends on such a request). */
  fast_scan_until: z.string().nullable().optional(),
  /**
   * Requests to the node's dongles, for a node that polls instead of holding a WebSocket; it answers each with
   * POST /agents/dongles/response (a DongleResponseMessage).
   */
  dongle_requests: z.array(DongleRequestMessage).max(64).optional(),
});
export type PollResponse = z.infer<typeof PollResponse>;

// ---- dashboard ----

export const ConnectionType = z.enum(['ws', 'poll']);

export const AgentSummary = z.object({
  id: z.uuid(),
  name: z.string(),
  hostname: z.string(),
  os: z.string(),
  version: z.string(),
  online: z.boolean(),
  connection_type: ConnectionType.nullable(),
  /** The node's own state as it last reported it (connected, polling, …). */
  state: z.string().nullable(),
  last_seen_at: z.string().nullable(),
  uptime_s: z.number().nullable(),
  /** The service manager running it (reported by its heartbeats), or null: runs in a terminal. */
  service: NodeServiceKind.nullable(),
  created_at: z.string(),
});
export type AgentSummary = z.infer<typeof AgentSummary>;

export const AgentsResponse = z.object({ agents: z.array(AgentSummary) });
export const AgentResponse = z.object({ agent: AgentSummary });
export const RenameAgentRequest = z.object({ name: z.string().trim().min(1).max(100) });
