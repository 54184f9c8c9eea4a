import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { AgentCloseCode } from '@canopy/protocol';
import { type DataCloudMessage, DataNodeMessage, inspectRelay, MAX_BATCH } from '@canopy/protocol/relay';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { authenticateRequest } from '../agents/bearer';
import type { AgentHub } from '../agents/hub';
import { completeUpgrade, rejectUpgrade, watchHangUp } from '../agents/upgrade-socket';
import type { Db } from '../db/client';
import { ApiError } from '../http/errors';
import { requestIdFor } from '../http/request-context';
import type { Logger } from '../log';
import type { DataConnection, Relay } from './relay';

export const DATA_WS_PATH = '/ws/data';
/** A FRAMES message of MAX_BATCH 8-byte frames is ~22 KB; anything far larger is not ours. */
const MAX_MESSAGE = 256 * 1024;

export type DataGatewayDeps = {
  db: Db;
  relay: Relay;
  log: Logger;
  now: () => Date;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  /** A removed node's data connection closes as its control connection does (REVOKED), on any instance. */
  hub?: Pick<AgentHub, 'listen'>;
};

type Conn = DataConnection & { ws: WebSocket; lastHeardAt: number; requestId: string; bad: number };

/**
 * WS /ws/data (spec 002 §13.3): the data plane of a node, authenticated like /ws/agent (agent token and
 * fingerprint; a disabled account's nodes are refused, and the relay closes their open connections). Binary
 * relay messages in both directions, a little JSON. One connection per node on this instance: a newer one
 * replaces the older.
 */
export class DataGateway {
  private readonly wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: MAX_MESSAGE,
  });
  private readonly conns = new Map<string, Conn>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: DataGatewayDeps) {
    this.timer = setInterval(() => this.sweep(), deps.pingIntervalMs);
    this.timer.unref();
  }

  get connections(): number {
    return this.conns.size;
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if ((req.url ?? '').split('?')[0] !== DATA_WS_PATH) return;
      void this.upgrade(req, socket, head);
    });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const conn of [...this.conns.values()]) conn.ws.close(1001, 'the cloud is restarting');
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const requestId = requestIdFor(req);
    const log = this.deps.log.child({ request_id: requestId, ws: DATA_WS_PATH });
    socket.on('error', () => socket.destroy());
    const hangUp = watchHangUp(socket, head);
    try {
      const agent = await authenticateRequest(this.deps.db, req, 'agent', this.deps.now());
      if (hangUp.gone()) return;
      const ws = await completeUpgrade(this.wss, req, socket, hangUp.release());
      if (ws) this.open(ws, agent.id, agent.userId, requestId);
    } catch (err) {
      const apiError =
        err instanceof ApiError
          ? err
          : new ApiError(500, 'INTERNAL_ERROR', 'Something went wrong on our side');
      if (apiError.status >= 500) log.error({ err }, 'data upgrade failed');
      else log.warn({ code: apiError.code }, 'data connection refused');
      hangUp.release();
      rejectUpgrade(socket, apiError);
    } finally {
      if (hangUp.gone()) socket.destroy();
    }
  }

  private open(ws: WebSocket, agentId: string, userId: string, requestId: string): void {
    const { relay, now } = this.deps;
    const conn: Conn = {
      id: randomUUID(),
      agentId,
      userId,
      ws,
      requestId,
      lastHeardAt: now().getTime(),
      bad: 0,
      send: (data) => {
        if (ws.readyState === ws.OPEN) ws.send(data);
      },
      bufferedAmount: () => ws.bufferedAmount,
      pause: () => ws.pause(),
      resume: () => ws.resume(),
      close: (code, reason) => ws.close(code, reason),
    };
    const previous = this.conns.get(agentId);
    if (previous) previous.ws.close(4000, 'replaced by a newer data connection');
    this.conns.set(agentId, conn);
    const log = () => this.deps.log.child({ request_id: requestId, ws: DATA_WS_PATH, agent_id: agentId });
    ws.on('message', (data, isBinary) => {
      conn.lastHeardAt = now().getTime();
      this.onMessage(conn, data, isBinary);
    });
    ws.on('pong', () => {
      conn.lastHeardAt = now().getTime();
    });
    ws.on('error', (err) => log().warn({ err: err.message }, 'data socket error'));
    const revoked = this.deps.hub
      ?.listen(agentId, (signal) => {
        if (signal.kind === 'revoked') ws.close(AgentCloseCode.REVOKED, 'node removed');
      })
      .catch((err) => {
        log().warn(
          { err: String(err) },
          'cannot hear of this node’s removal; its data connection stays until it drops',
        );
        return async () => {};
      });
    ws.on('close', (code) => {
      void revoked?.then((unsubscribe) => unsubscribe());
      if (this.conns.get(agentId) === conn) this.conns.delete(agentId);
      relay.disconnected(conn);
      log().info({ code }, 'data connection closed');
    });
    const welcome: DataCloudMessage = { type: 'data_welcome', max_batch: MAX_BATCH };
    ws.send(JSON.stringify(welcome));
    relay.connected(conn);
    log().info('data connection open');
  }

  private onMessage(conn: Conn, data: RawData, isBinary: boolean): void {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (!isBinary) {
      let parsed: DataNodeMessage | undefined;
      try {
        parsed = DataNodeMessage.parse(JSON.parse(bytes.toString('utf8')));
      } catch {
        this.malformed(conn, 'VALIDATION_ERROR');
        return;
      }
      const log = this.deps.log.child({
        agent_id: conn.agentId,
        group_id: parsed.group_id,
        side: parsed.side,
      });
      if (parsed.type === 'gap') {
        log.warn(
          { epoch: parsed.epoch, expected: parsed.expected, got: parsed.got },
          'a node saw a gap in the frames',
        );
      } else {
        log.warn({ code: parsed.code, message: parsed.message }, 'a node cannot bridge its group side');
        this.deps.relay.sideError(conn, parsed.group_id, parsed.side, parsed.code);
      }
      return;
    }
    const decoded = inspectRelay(bytes);
    if (!decoded.ok) {
      this.malformed(conn, decoded.error.code);
      return;
    }
    const m = decoded.value;
    if (m.kind === 'frames') this.deps.relay.frames(conn, m.groupId, m.from, bytes);
    else if (m.kind === 'ack') this.deps.relay.ack(conn, m.groupId, m.side, m.epoch, m.seq);
    else this.malformed(conn, 'BAD_KIND');
  }

  /** Bad messages are counted and logged (at most one line in 100), never fatal. */
  private malformed(conn: Conn, code: string): void {
    if (conn.bad++ % 100 === 0) {
      this.deps.log.warn(
        { agent_id: conn.agentId, code, count: conn.bad },
        'malformed data-plane message ignored',
      );
    }
  }

  private sweep(): void {
    const now = this.deps.now().getTime();
    for (const conn of this.conns.values()) {
      if (now - conn.lastHeardAt > this.deps.idleTimeoutMs) conn.ws.terminate();
      else conn.ws.ping();
    }
  }
}
