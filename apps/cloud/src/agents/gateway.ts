import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  AgentCloseCode,
  ATTEMPT_HEADER,
  type CloudMessage,
  type DongleReport,
  type DongleResponseMessage,
  NodeMessage,
} from '@canopy/protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import { ACCOUNT_DISABLED_CLOSE } from '../accounts/status-changes';
import type { Db } from '../db/client';
import type { Unsubscribe } from '../engine';
import { ApiError } from '../http/errors';
import { requestIdFor } from '../http/request-context';
import type { Logger } from '../log';
import type { AgentService } from './agents';
import { authenticateRequest } from './bearer';
import type { AgentRow } from './credentials';
import { HandshakeGate } from './handshake-gate';
import type { AgentHub } from './hub';
import { completeUpgrade, rejectUpgrade, watchHangUp } from './upgrade-socket';

export const AGENT_WS_PATH = '/ws/agent';
/** How far a node's attempt stamp may be from the cloud's clock and still order its connections. */
const ATTEMPT_STAMP_SLACK_MS = 10 * 60_000;

type Connection = {
  id: string;
  agentId: string;
  userId: string;
  /**
   * When the node started this attempt (ATTEMPT_HEADER; else when its upgrade request was read): of two
   * connections of one agent, the later attempt wins.
   */
  startedAt: number;
  ws: WebSocket;
  /** Its upgrade request's id, for its log lines (a logger per connection would cost ~1 KiB each). */
  requestId: string;
  /** Highest cursor sent on this connection. */
  sentCursor: number;
  lastHeardAt: number;
  lastTouchedAt: number;
  /** Serialises deliveries so messages go out in cursor order. */
  delivering: Promise<void>;
  unsubscribe?: () => Promise<void>;
};

export type GatewayDeps = {
  db: Db;
  service: AgentService;
  hub: AgentHub;
  log: Logger;
  now: () => Date;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  /** Handshakes run at once; the rest wait in arrival order (see HandshakeGate). */
  handshakeConcurrency: number;
  /** Handshakes waiting beyond this are refused with 503 and Retry-After. */
  handshakeQueueMax: number;
  /** A node's dongle snapshot (`dongle_report`), handed to the dongles domain. */
  onDongleReport: (agent: { id: string; userId: string }, report: DongleReport) => Promise<void>;
  /** A node's answer to a dongle request. */
  onDongleResponse: (agentId: string, message: DongleResponseMessage) => Promise<void>;
};

/**
 * WS /ws/agent, the control channel (spec 000 §1, spec 002 §9.2). One live connection per agent across all
 * instances: a newer one replaces the older (close 4000). The server pings every `pingIntervalMs` and closes
 * a connection silent for `idleTimeoutMs` (close 4008). When a user is disabled, every connection of their
 * nodes closes (ACCOUNT_DISABLED_CLOSE), on whichever instance holds it.
 */
export class AgentGateway {
  // The gateway tracks its connections itself (`connections`), so ws need not keep a second set.
  private readonly wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: 16 * 1024 * 1024,
  });
  private readonly connections = new Map<string, Connection>();
  private readonly timer: NodeJS.Timeout;
  private readonly gate: HandshakeGate;
  private readonly accountWatch: Promise<Unsubscribe>;

  constructor(private readonly deps: GatewayDeps) {
    this.gate = new HandshakeGate(deps.handshakeConcurrency, deps.handshakeQueueMax);
    this.timer = setInterval(() => this.sweep(), deps.pingIntervalMs);
    this.timer.unref();
    this.accountWatch = deps.hub
      .listenUsers((change) => {
        if (change.status === 'disabled') this.closeAccount(change.user_id);
      })
      .catch((err) => {
        // New connections are refused all the same (authentication reads the account's status).
        deps.log.error({ err }, 'cannot hear account changes; a disabled user’s nodes stay connected here');
        return async () => {};
      });
  }

  isConnected(agentId: string): boolean {
    return this.connections.has(agentId);
  }

  /** Nodes connected to this instance right now (for /metrics). */
  get connectedCount(): number {
    return this.connections.size;
  }

  /** Takes over upgrades for /ws/agent; other paths are left to other gateways. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== AGENT_WS_PATH) return; // another gateway's, or refused by the server (server.ts)
      void this.upgrade(req, socket, head);
    });
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const log = this.deps.log.child({ request_id: requestIdFor(req), ws: AGENT_WS_PATH });
    const now = this.deps.now().getTime();
    const stamp = attemptOf(req);
    // A node's own stamp orders its attempts; one far from the cloud's clock (a clock that jumps) is not used.
    const startedAt = stamp !== null && Math.abs(stamp - now) <= ATTEMPT_STAMP_SLACK_MS ? stamp : now;
    socket.on('error', () => socket.destroy());
    // A node that gave up waiting (its handshake timed out) must cost no database work, and must not come
    // back to life as a zombie connection that then replaces the node's newer, live one.
    const hangUp = watchHangUp(socket, head);
    if (!this.gate.hasRoom) {
      log.warn({ queued: this.gate.queued }, 'too many node handshakes waiting; refused');
      hangUp.release();
      rejectUpgrade(
        socket,
        new ApiError(503, 'SERVICE_UNAVAILABLE', 'Too many nodes are connecting; retry shortly'),
        {
          'Retry-After': '5',
        },
      );
      return;
    }
    await this.gate.run(async () => {
      try {
        if (hangUp.gone()) return;
        const agent = await authenticateRequest(this.deps.db, req, 'agent', this.deps.now());
        // Let pending socket reads happen first: PGlite answers without yielding to I/O, so a hang-up that
        // sat in the kernel behind this request (the node timed out while the server was too busy to read
        // it) would otherwise go unseen, and a 101 and a welcome would go to a node that is gone.
        await new Promise((resolve) => setImmediate(resolve));
        if (hangUp.gone()) {
          log.info({ agent_id: agent.id }, 'agent gave up before the upgrade completed');
          return;
        }
        const ws = await completeUpgrade(this.wss, req, socket, hangUp.release());
        if (ws) await this.open(ws, agent, startedAt, requestIdFor(req));
      } catch (err) {
        const apiError =
          err instanceof ApiError
            ? err
            : new ApiError(500, 'INTERNAL_ERROR', 'Something went wrong on our side');
        if (apiError.status >= 500) log.error({ err }, 'agent upgrade failed');
        else log.warn({ code: apiError.code }, 'agent connection refused');
        hangUp.release();
        rejectUpgrade(socket, apiError);
      } finally {
        if (hangUp.gone()) socket.destroy();
      }
    });
  }

  /** Closes the connections of a disabled user's nodes on this instance; they are refused until enabled. */
  private closeAccount(userId: string): void {
    for (const conn of this.connections.values()) {
      if (conn.userId !== userId) continue;
      this.logOf(conn).info('account disabled; closing the node’s connection');
      conn.ws.close(ACCOUNT_DISABLED_CLOSE, 'account disabled');
    }
  }

  /** A connection's logger, made when a line is written. */
  private logOf(conn: Connection): Logger {
    return this.deps.log.child({ request_id: conn.requestId, ws: AGENT_WS_PATH, agent_id: conn.agentId });
  }

  /** Registers the connection and sends `welcome`; resolves once the welcome is on its way. */
  private async open(ws: WebSocket, agent: AgentRow, startedAt: number, requestId: string): Promise<void> {
    const { service, hub, now } = this.deps;
    const agentId = agent.id;
    const conn: Connection = {
      id: randomUUID(),
      agentId,
      userId: agent.userId,
      startedAt,
      ws,
      requestId,
      sentCursor: 0,
      lastHeardAt: now().getTime(),
      lastTouchedAt: now().getTime(),
      delivering: Promise.resolve(),
    };
    const previous = this.connections.get(agentId);
    if (previous && previous.startedAt > startedAt) {
      ws.close(AgentCloseCode.REPLACED, 'a newer connection of this node is open');
      return;
    }
    if (previous) previous.ws.close(AgentCloseCode.REPLACED, 'replaced by a newer connection');
    this.connections.set(agentId, conn);

    ws.on('message', (data) => {
      conn.lastHeardAt = now().getTime();
      void this.onMessage(conn, data.toString()).catch((err) =>
        this.logOf(conn).error({ err }, 'agent message failed'),
      );
    });
    ws.on('pong', () => {
      conn.lastHeardAt = now().getTime();
    });
    ws.on('error', (err) => this.logOf(conn).warn({ err: err.message }, 'agent socket error'));
    ws.on('close', (code) => {
      void conn.unsubscribe?.();
      if (this.connections.get(agentId) === conn) this.connections.delete(agentId);
      this.logOf(conn).info({ code }, 'agent disconnected');
    });

    try {
      conn.unsubscribe = await hub.listen(agentId, (signal) => {
        if (signal.kind === 'wake') this.deliver(conn);
        else if (
          signal.kind === 'connected' &&
          signal.connection !== conn.id &&
          signal.startedAt >= conn.startedAt
        ) {
          ws.close(AgentCloseCode.REPLACED, 'replaced by a newer connection');
        } else if (signal.kind === 'revoked') ws.close(AgentCloseCode.REVOKED, 'node removed');
        else if (signal.kind === 'scan') send(conn, { type: 'scan_request', fast_until: signal.fastUntil });
        else if (signal.kind === 'dongle_request') send(conn, signal.message);
      });
      await hub.signal(agentId, { kind: 'connected', connection: conn.id, startedAt });
      const welcome = await service.welcome(agentId);
      if (!welcome) {
        this.logOf(conn).info('account disabled during the handshake; closing');
        ws.close(ACCOUNT_DISABLED_CLOSE, 'account disabled');
        return;
      }
      conn.sentCursor = welcome.ackedCursor;
      send(conn, {
        type: 'welcome',
        agent_id: agentId,
        name: welcome.name,
        token: welcome.token,
        expires_at: welcome.expiresAt.toISOString(),
        server_time: now().toISOString(),
      });
      this.logOf(conn).info('agent connected');
      if (welcome.pending) this.deliver(conn);
    } catch (err) {
      this.logOf(conn).error({ err }, 'agent connection setup failed');
      ws.close(1011, 'server error');
    }
  }

  private async onMessage(conn: Connection, raw: string): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      this.logOf(conn).warn('agent sent a frame that is not JSON; ignored');
      return;
    }
    const parsed = NodeMessage.safeParse(json);
    if (!parsed.success) {
      this.logOf(conn).warn(
        { issues: parsed.error.issues.slice(0, 3) },
        'agent sent an invalid message; ignored',
      );
      return;
    }
    const { service } = this.deps;
    const message = parsed.data;
    switch (message.type) {
      case 'ack':
        await service.acknowledge(conn.agentId, message.cursor);
        return;
      case 'task_update': {
        const { type: _type, ...update } = message;
        const status = await service.applyTaskUpdate(conn.agentId, update);
        send(conn, { type: 'update_ack', task_id: update.task_id, status });
        return;
      }
      case 'dongle_report': {
        const { type: _type, ...report } = message;
        await this.deps.onDongleReport({ id: conn.agentId, userId: conn.userId }, report);
        return;
      }
      case 'dongle_response':
        await this.deps.onDongleResponse(conn.agentId, message);
        return;
      case 'going_offline':
        await service.markOffline(conn.agentId);
        this.logOf(conn).info({ reason: message.reason }, 'agent going offline');
        conn.ws.close(1000, 'bye');
        return;
    }
  }

  /** Sends every queued message after what this connection has sent, in order. */
  private deliver(conn: Connection): void {
    conn.delivering = conn.delivering
      .then(async () => {
        for (;;) {
          if (conn.ws.readyState !== conn.ws.OPEN) return;
          const batch = await this.deps.service.messagesAfter(conn.agentId, conn.sentCursor);
          if (batch.length === 0) return;
          for (const message of batch) {
            send(conn, message);
            conn.sentCursor = message.cursor;
          }
        }
      })
      .catch((err) => this.logOf(conn).error({ err }, 'delivery to agent failed'));
  }

  /** Pings every connection; closes the silent ones; refreshes presence of the live ones. */
  private sweep(): void {
    const now = this.deps.now().getTime();
    const live: string[] = [];
    for (const conn of this.connections.values()) {
      if (now - conn.lastHeardAt > this.deps.idleTimeoutMs) {
        this.logOf(conn).warn({ silent_ms: now - conn.lastHeardAt }, 'agent silent too long; closing');
        conn.ws.close(AgentCloseCode.IDLE_TIMEOUT, 'no answer to pings');
        setTimeout(() => conn.ws.terminate(), 2000).unref();
        continue;
      }
      conn.ws.ping();
      if (
        now - conn.lastTouchedAt >= this.deps.idleTimeoutMs / 3 &&
        now - conn.lastHeardAt < this.deps.idleTimeoutMs / 3
      ) {
        conn.lastTouchedAt = now;
        live.push(conn.agentId);
      }
    }
    void this.deps.service
      .touchMany(live)
      .catch((err) => this.deps.log.warn({ err }, 'presence update failed'));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await (await this.accountWatch)();
    for (const conn of this.connections.values())
      conn.ws.close(AgentCloseCode.GOING_AWAY, 'server shutting down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function send(conn: Connection, message: CloudMessage): void {
  if (conn.ws.readyState === conn.ws.OPEN) conn.ws.send(JSON.stringify(message));
}

/** The node's own stamp of this attempt (ATTEMPT_HEADER), when it sent a sane one. */
function attemptOf(req: IncomingMessage): number | null {
  const value = req.headers[ATTEMPT_HEADER];
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) return null;
  return Number(value);
}

/** Answers a refused upgrade with a plain HTTP error carrying the standard body. */
