import { randomBytes, randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  AgentCloseCode,
  type CloudMessage,
  type DongleRequestMessage,
  type DongleResponseMessage,
  type ErrorBody,
  type ErrorCode,
  FINGERPRINT_HEADER,
  type HeartbeatRequest,
  NodeMessage,
  type TaskMessage,
  type TaskUpdate,
} from '@canopy/protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Clock } from '../clock';

/*
 * A test double of the cloud's agent endpoints (WS /ws/agent and /api/v1/agents/*), speaking the protocol
 * on 127.0.0.1 with knobs to misbehave. Only for unit tests of the link; the real cloud has its own tests.
 */

export type RecordedRequest = {
  method: string;
  url: string;
  authorization: string | undefined;
  fingerprint: string | undefined;
};

export type FakeCloudOptions = { clock: Clock; agentToken: string; fingerprint: string };

export class FakeCloud {
  readonly agentId = randomUUID();
  readonly agentName = 'bench-pc';
  url = '';
  wsUrl = '';

  // ---- knobs ----
  /** Refuse this many upcoming upgrades with 503. */
  refuseUpgrades = 0;
  /** Down: every connection is cut before any HTTP answer (the cloud process is gone). */
  down = false;
  /** Refuse every upgrade with 503. */
  refuseAll = false;
  /** The agent token is revoked: upgrades and refreshes get 401 AGENT_TOKEN_INVALID. */
  revoked = false;
  /** Refresh answers 503 (the WS still works). */
  refreshFails = false;
  answerPings = true;
  /** 'ack': normal; 'swallow-and-close': record the next task_update, never ack it, close the socket. */
  updateMode: 'ack' | 'swallow-and-close' = 'ack';
  /** Close each connection right after its welcome. */
  closeAfterWelcome = false;
  sessionLifetimeMs = 60 * 60_000;
  /** How long (real ms) an empty poll is held. */
  pollHoldMs = 100;

  // ---- what happened ----
  upgrades: RecordedRequest[] = [];
  connections = 0;
  pingsAnswered = 0;
  frames: NodeMessage[] = [];
  requests: RecordedRequest[] = [];
  refreshes = 0;
  heartbeats: Array<HeartbeatRequest & { token: string }> = [];
  updates: Array<{ via: 'ws' | 'http'; update: TaskUpdate }> = [];
  goingOffline: Array<{ via: 'ws' | 'http'; reason?: string }> = [];
  /** Session requests refused with 401. */
  sessionRejections = 0;
  ackedCursor = 0;
  polls = 0;
  /** Every token this cloud handed out (to check none of them reaches a log). */
  readonly issuedTokens: string[] = [];

  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true, autoPong: false });
  private readonly sockets = new Set<WebSocket>();
  private readonly sessions = new Map<string, number>();
  private readonly queue: TaskMessage[] = [];
  private nextCursor = 1;
  private pollWaiters = new Set<() => void>();
  private dongleRequests: DongleRequestMessage[] = [];
  /** Answers to dongle requests that came over HTTP. */
  readonly dongleResponses: DongleResponseMessage[] = [];

  private constructor(private readonly options: FakeCloudOptions) {
    this.server = createServer((req, res) => {
      this.onRequest(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  static async start(options: FakeCloudOptions): Promise<FakeCloud> {
    const cloud = new FakeCloud(options);
    await new Promise<void>((resolve) => cloud.server.listen(0, '127.0.0.1', resolve));
    const { port } = cloud.server.address() as AddressInfo;
    cloud.url = `http://127.0.0.1:${port}`;
    cloud.wsUrl = `ws://127.0.0.1:${port}/ws/agent`;
    return cloud;
  }

  get openSockets(): number {
    return this.sockets.size;
  }

  /** Queues a task and sends it to the open socket / wakes waiting polls. */
  pushTask(): TaskMessage {
    const message: TaskMessage = {
      type: 'task',
      cursor: this.nextCursor++,
      task: { id: randomUUID(), type: 'status_ping', payload: {}, created_at: new Date().toISOString() },
    };
    this.queue.push(message);
    for (const ws of this.sockets) this.send(ws, message);
    for (const wake of this.pollWaiters) wake();
    return message;
  }

  /** A dongle request for the next poll (the WebSocket path is tested with the real cloud). */
  pushDongleRequest(message: DongleRequestMessage): void {
    this.dongleRequests.push(message);
    for (const wake of this.pollWaiters) wake();
  }

  /** Sends every queued message again, acknowledged or not (a confused server). */
  resendAll(): void {
    for (const ws of this.sockets) for (const message of this.queue) this.send(ws, message);
  }

  sendRaw(text: string): void {
    for (const ws of this.sockets) ws.send(text);
  }

  closeSockets(code: number, reason: string): void {
    for (const ws of this.sockets) ws.close(code, reason);
  }

  /** Revokes the agent: closes its socket with 4003 and refuses it from now on. */
  revoke(): void {
    this.revoked = true;
    this.closeSockets(AgentCloseCode.REVOKED, 'node removed');
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    for (const wake of this.pollWaiters) wake();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- WebSocket ----

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.down) {
      socket.destroy();
      return;
    }
    this.upgrades.push(record(req));
    if (this.refuseAll || this.refuseUpgrades > 0) {
      this.refuseUpgrades = Math.max(0, this.refuseUpgrades - 1);
      refuse(socket, 503, 'SERVICE_UNAVAILABLE', 'Try again later');
      return;
    }
    if (this.revoked || req.headers.authorization !== `Bearer ${this.options.agentToken}`) {
      refuse(socket, 401, 'AGENT_TOKEN_INVALID', 'This agent token is unknown or was revoked');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  private onConnection(ws: WebSocket): void {
    this.connections += 1;
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('ping', (data) => {
      if (!this.answerPings) return;
      this.pingsAnswered += 1;
      ws.pong(data);
    });
    ws.on('message', (data) => this.onFrame(ws, data.toString()));
    const session = this.issueSession();
    this.send(ws, {
      type: 'welcome',
      agent_id: this.agentId,
      name: this.agentName,
      token: session.token,
      expires_at: session.expires_at,
      server_time: new Date(this.options.clock.now()).toISOString(),
    });
    if (this.closeAfterWelcome) {
      ws.close(1011, 'server error');
      return;
    }
    for (const message of this.queue) if (message.cursor > this.ackedCursor) this.send(ws, message);
  }

  private onFrame(ws: WebSocket, text: string): void {
    const message = NodeMessage.parse(JSON.parse(text));
    this.frames.push(message);
    switch (message.type) {
      case 'ack':
        this.acknowledge(message.cursor);
        return;
      case 'task_update': {
        const { type: _type, ...update } = message;
        this.updates.push({ via: 'ws', update });
        if (this.updateMode === 'swallow-and-close') {
          this.updateMode = 'ack';
          ws.close(AgentCloseCode.GOING_AWAY, 'restarting');
          return;
        }
        this.send(ws, { type: 'update_ack', task_id: update.task_id, status: update.status });
        return;
      }
      case 'going_offline':
        this.goingOffline.push({ via: 'ws', reason: message.reason });
        ws.close(1000, 'bye');
        return;
    }
  }

  private send(ws: WebSocket, message: CloudMessage): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  }

  // ---- HTTP ----

  /** The cloud dies: open sockets drop abnormally (1006) and nothing answers until `down` is false. */
  crash(): void {
    this.down = true;
    for (const ws of this.sockets) ws.terminate();
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.down) {
      req.socket.destroy();
      return;
    }
    if (req.url === '/readyz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ready":true}');
      return;
    }
    this.requests.push(record(req));
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const body = await readJson(req);
    const path = url.pathname;
    if (req.headers[FINGERPRINT_HEADER] !== this.options.fingerprint) {
      return error(res, 401, 'AGENT_FINGERPRINT_MISMATCH', 'This token belongs to another machine');
    }
    if (req.method === 'POST' && path === '/api/v1/agents/token/refresh') {
      if (this.revoked || req.headers.authorization !== `Bearer ${this.options.agentToken}`) {
        return error(res, 401, 'AGENT_TOKEN_INVALID', 'This agent token is unknown or was revoked');
      }
      if (this.refreshFails) return error(res, 503, 'SERVICE_UNAVAILABLE', 'Try again later');
      this.refreshes += 1;
      return json(res, 200, this.issueSession());
    }
    const token = this.checkSession(req, res);
    if (token === null) return;
    if (req.method === 'POST' && path === '/api/v1/agents/heartbeat') {
      this.heartbeats.push({ ...(body as HeartbeatRequest), token });
      return json(res, 200, { server_time: new Date(this.options.clock.now()).toISOString() });
    }
    if (req.method === 'GET' && path === '/api/v1/agents/poll') {
      return this.poll(Number(url.searchParams.get('cursor') ?? 0), req, res);
    }
    const update = /^\/api\/v1\/agents\/tasks\/([^/]+)\/update$/.exec(path);
    if (req.method === 'POST' && update) {
      const received = body as TaskUpdate;
      this.updates.push({ via: 'http', update: { ...received, task_id: update[1] as string } });
      return json(res, 200, { task_id: update[1], status: received.status });
    }
    if (req.method === 'POST' && path === '/api/v1/agents/dongles/response') {
      this.dongleResponses.push(body as DongleResponseMessage);
      res.statusCode = 204;
      res.end();
      return;
    }
    if (req.method === 'POST' && path === '/api/v1/agents/going-offline') {
      this.goingOffline.push({ via: 'http', reason: (body as { reason?: string }).reason });
      res.statusCode = 204;
      res.end();
      return;
    }
    error(res, 404, 'NOT_FOUND', `No route ${req.method} ${path}`);
  }

  private async poll(cursor: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.polls += 1;
    this.acknowledge(cursor);
    const pending = () => this.queue.filter((m) => m.cursor > cursor);
    if (pending().length === 0 && this.dongleRequests.length === 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.pollWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, this.pollHoldMs);
        this.pollWaiters.add(done);
        req.once('close', done);
      });
    }
    const messages = pending();
    const dongleRequests = this.dongleRequests.splice(0);
    json(res, 200, {
      messages,
      cursor: messages.at(-1)?.cursor ?? cursor,
      ...(dongleRequests.length > 0 ? { dongle_requests: dongleRequests } : {}),
    });
  }

  private acknowledge(cursor: number): void {
    this.ackedCursor = Math.max(this.ackedCursor, cursor);
  }

  private issueSession(): { token: string; expires_at: string } {
    const token = `cns_${randomBytes(18).toString('base64url')}`;
    const expires = this.options.clock.now() + this.sessionLifetimeMs;
    this.sessions.set(token, expires);
    this.issuedTokens.push(token);
    return { token, expires_at: new Date(expires).toISOString() };
  }

  private checkSession(req: IncomingMessage, res: ServerResponse): string | null {
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const expires = this.sessions.get(token);
    if (expires === undefined || this.revoked) {
      this.sessionRejections += 1;
      error(res, 401, 'AGENT_TOKEN_INVALID', 'This session token is unknown or was revoked');
      return null;
    }
    if (this.options.clock.now() >= expires) {
      this.sessionRejections += 1;
      error(res, 401, 'AGENT_TOKEN_EXPIRED', 'The session token has expired; refresh it');
      return null;
    }
    return token;
  }
}

function record(req: IncomingMessage): RecordedRequest {
  const fingerprint = req.headers[FINGERPRINT_HEADER];
  return {
    method: req.method ?? '',
    url: req.url ?? '',
    authorization: req.headers.authorization,
    fingerprint: typeof fingerprint === 'string' ? fingerprint : undefined,
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : {};
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  const body: ErrorBody = { code, message, details: {} };
  json(res, status, body);
}

/** Refuses an upgrade the way the real cloud does: a plain HTTP answer with the standard error body. */
function refuse(socket: Duplex, status: number, code: ErrorCode, message: string): void {
  const body = JSON.stringify({ code, message, details: {} } satisfies ErrorBody);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
