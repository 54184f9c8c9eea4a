import type { ClientRequest, IncomingMessage } from 'node:http';
import {
  ATTEMPT_HEADER,
  attemptStamp,
  CloudMessage,
  ErrorBody,
  type ErrorCode,
  FINGERPRINT_HEADER,
  type NodeMessage,
  type TaskMessage,
  type WelcomeMessage,
} from '@canopy/protocol';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { Clock } from './clock';

export type SocketTimings = {
  handshakeTimeoutMs: number;
  /** From the open socket to the welcome. */
  welcomeTimeoutMs: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
};

export type SocketClose = {
  /** The WebSocket close code; null when the socket never opened. */
  code: number | null;
  /** Plain words: the server's reason, the HTTP refusal or the network error. */
  detail: string;
  /** The error code of a refused upgrade (e.g. AGENT_TOKEN_INVALID). */
  refusedWith: ErrorCode | null;
  /** Closed by us because no pong came back in time. */
  stale: boolean;
  /**
   * The cloud could not be reached or vanished mid-connection (no HTTP answer, or an abnormal close): the
   * kind of failure after which the link watches for the cloud's return.
   */
  unreachable: boolean;
};

export type SocketHandlers = {
  onWelcome: (message: WelcomeMessage) => void;
  onTask: (message: TaskMessage) => void;
  onUpdateAck: (message: Extract<CloudMessage, { type: 'update_ack' }>) => void;
  onScanRequest: (message: Extract<CloudMessage, { type: 'scan_request' }>) => void;
  onDongleRequest: (message: Extract<CloudMessage, { type: 'dongle_request' }>) => void;
  /** Called exactly once, whatever ended the socket. */
  onClose: (close: SocketClose) => void;
};

export type AgentSocketOptions = SocketTimings & {
  url: string;
  agentToken: string;
  fingerprint: string;
  clock: Clock;
  log: Logger;
};

const MAX_REFUSAL_BODY = 4096;

/**
 * One attempt at /ws/agent: authenticates with headers (never the URL), waits for the welcome, checks liveness
 * with protocol pings, validates every frame.
 */
export class AgentSocket {
  private readonly ws: WebSocket;
  private timer: unknown = null;
  private pongTimer: unknown = null;
  private refusal: { status: number; code: ErrorCode | null; message: string } | null = null;
  private stale = false;
  private welcomed = false;
  private wasOpen = false;
  private lastError: string | null = null;
  /** Why we cut the socket ourselves, if we did. */
  private ending: string | null = null;
  private closed = false;
  private closedWaiters: Array<() => void> = [];

  constructor(
    private readonly options: AgentSocketOptions,
    private readonly handlers: SocketHandlers,
  ) {
    this.ws = new WebSocket(options.url, {
      headers: {
        authorization: `Bearer ${options.agentToken}`,
        [FINGERPRINT_HEADER]: options.fingerprint,
        [ATTEMPT_HEADER]: String(attemptStamp()),
      },
      handshakeTimeout: options.handshakeTimeoutMs,
      followRedirects: false,
    });
    this.ws.on('open', () => this.onOpen());
    this.ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.ws.on('pong', () => this.clearPongTimer());
    this.ws.on('unexpected-response', (req, res) => this.onRefused(req, res));
    this.ws.on('error', (err) => {
      this.lastError = err.message;
      options.log.debug({ err: err.message }, 'websocket error');
    });
    this.ws.on('close', (code, reason) => this.onClosed(code, reason.toString()));
  }

  /** Open and welcomed. */
  get ready(): boolean {
    return this.welcomed && this.ws.readyState === WebSocket.OPEN;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(message: NodeMessage): boolean {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  terminate(): void {
    this.stopTimers();
    this.ws.terminate();
  }

  /** Says `going_offline`, closes, and waits for the close (at most `timeoutMs`, then cuts the socket). */
  async goodbye(reason: string | undefined, timeoutMs: number): Promise<void> {
    this.stopTimers();
    if (this.open) {
      this.send({ type: 'going_offline', ...(reason ? { reason: reason.slice(0, 200) } : {}) });
      this.ws.close(1000, 'going offline');
    }
    if (!this.closed) {
      await new Promise<void>((resolve) => {
        const timer = this.options.clock.setTimeout(resolve, timeoutMs);
        this.closedWaiters.push(() => {
          this.options.clock.clearTimeout(timer);
          resolve();
        });
      });
    }
    this.ws.terminate();
  }

  private onOpen(): void {
    this.wasOpen = true;
    this.setTimer(this.options.welcomeTimeoutMs, () => {
      this.ending = 'no welcome from the cloud in time';
      this.ws.terminate();
    });
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.options.log.warn('ignored a binary frame from the cloud');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(rawText(data));
    } catch {
      this.options.log.warn('ignored a frame from the cloud that is not JSON');
      return;
    }
    const parsed = CloudMessage.safeParse(json);
    if (!parsed.success) {
      // The frame itself is not logged: a welcome carries a token.
      const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`);
      this.options.log.warn({ issues }, 'ignored an invalid message from the cloud');
      return;
    }
    const message = parsed.data;
    switch (message.type) {
      case 'welcome':
        if (this.welcomed) return;
        this.welcomed = true;
        this.startPinging();
        this.handlers.onWelcome(message);
        return;
      case 'task':
        if (this.welcomed) this.handlers.onTask(message);
        return;
      case 'update_ack':
        if (this.welcomed) this.handlers.onUpdateAck(message);
        return;
      case 'scan_request':
        if (this.welcomed) this.handlers.onScanRequest(message);
        return;
      case 'dongle_request':
        if (this.welcomed) this.handlers.onDongleRequest(message);
        return;
    }
  }

  private startPinging(): void {
    this.setTimer(this.options.pingIntervalMs, () => {
      if (!this.open) return;
      this.ws.ping();
      // An outstanding deadline is kept: a later ping must not push back the verdict on an earlier one.
      this.pongTimer ??= this.options.clock.setTimeout(() => {
        this.pongTimer = null;
        this.stale = true;
        this.ws.terminate();
      }, this.options.pongTimeoutMs);
      this.startPinging();
    });
  }

  private onRefused(req: ClientRequest, res: IncomingMessage): void {
    const status = res.statusCode ?? 0;
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (body.length < MAX_REFUSAL_BODY) body += chunk;
    });
    const finish = () => {
      if (this.refusal) return;
      this.refusal = { status, ...parseRefusal(body) };
      req.destroy();
      this.ws.terminate();
    };
    res.on('end', finish);
    res.on('error', finish);
    res.on('aborted', finish);
    // A server that never finishes its error body must not hold the attempt open.
    this.setTimer(this.options.handshakeTimeoutMs, finish);
  }

  private onClosed(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    for (const waiter of this.closedWaiters.splice(0)) waiter();
    const refusal = this.refusal;
    let close: SocketClose;
    if (refusal) {
      const what = refusal.code ? `${refusal.code}: ${refusal.message}` : refusal.message;
      close = {
        code: null,
        detail: `the cloud refused the WebSocket with HTTP ${refusal.status}${what ? ` (${what})` : ''}`,
        refusedWith: refusal.code,
        stale: false,
        unreachable: false,
      };
    } else if (this.stale) {
      close = { code: 1006, detail: 'no pong in time', refusedWith: null, stale: true, unreachable: false };
    } else if (this.ending) {
      close = { code, detail: this.ending, refusedWith: null, stale: false, unreachable: false };
    } else if (!this.wasOpen) {
      const detail = this.lastError ?? 'could not connect';
      close = { code: null, detail, refusedWith: null, stale: false, unreachable: true };
    } else {
      close = { code, detail: reason, refusedWith: null, stale: false, unreachable: code === 1006 };
    }
    this.handlers.onClose(close);
  }

  private setTimer(ms: number, fn: () => void): void {
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      fn();
    }, ms);
  }

  private clearPongTimer(): void {
    if (this.pongTimer !== null) this.options.clock.clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  private stopTimers(): void {
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.clearPongTimer();
  }
}

function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function parseRefusal(body: string): { code: ErrorCode | null; message: string } {
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(body));
    if (parsed.success) return { code: parsed.data.code, message: parsed.data.message };
  } catch {
    // Not the standard body.
  }
  return { code: null, message: '' };
}
