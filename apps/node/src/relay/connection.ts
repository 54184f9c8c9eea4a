import { ErrorBody, FINGERPRINT_HEADER } from '@canopy/protocol';
import { DataCloudMessage } from '@canopy/protocol/relay';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { Clock } from '../link/clock';

export type ConnectionOptions = {
  url: string;
  agentToken: string;
  fingerprint: string;
  clock: Clock;
  log: Logger;
  handshakeTimeoutMs: number;
  /** A ping this often; no pong before the next one and the connection is cut. */
  pingIntervalMs: number;
};

export type ConnectionHandlers = {
  onOpen: () => void;
  onText: (message: DataCloudMessage) => void;
  onBinary: (data: Buffer) => void;
  /** Exactly once, whatever ended it; `detail` in plain words (never a token). */
  onClose: (detail: string, wasOpen: boolean) => void;
};

/**
 * One attempt at WS /ws/data, authenticated like /ws/agent: the agent token in `Authorization: Bearer`, the
 * fingerprint header; never in the URL. Text messages are validated (an invalid one is logged and ignored),
 * binary ones handed over as they are.
 */
export class DataConnection {
  readonly #ws: WebSocket;
  #pingTimer: unknown = null;
  #awaitingPong = false;
  #wasOpen = false;
  #closed = false;
  #detail: string | null = null;
  readonly #closedWaiters: Array<() => void> = [];

  constructor(
    private readonly options: ConnectionOptions,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.#ws = new WebSocket(options.url, {
      headers: {
        authorization: `Bearer ${options.agentToken}`,
        [FINGERPRINT_HEADER]: options.fingerprint,
      },
      handshakeTimeout: options.handshakeTimeoutMs,
      followRedirects: false,
      perMessageDeflate: false,
    });
    this.#ws.binaryType = 'nodebuffer';
    this.#ws.on('open', () => {
      this.#wasOpen = true;
      this.ping();
      handlers.onOpen();
    });
    this.#ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.#ws.on('pong', () => {
      this.#awaitingPong = false;
    });
    this.#ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      const finish = () => {
        this.#detail ??= `the cloud refused the data connection with HTTP ${res.statusCode}${refusalCode(body)}`;
        req.destroy();
        this.#ws.terminate();
      };
      res.on('end', finish);
      res.on('error', finish);
    });
    this.#ws.on('error', (err) => {
      this.#detail ??= err.message;
    });
    this.#ws.on('close', (code, reason) => {
      if (this.#closed) return;
      this.#closed = true;
      this.stopPing();
      for (const wake of this.#closedWaiters.splice(0)) wake();
      const detail =
        this.#detail ??
        (this.#wasOpen
          ? `closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})`
          : 'could not connect');
      handlers.onClose(detail, this.#wasOpen);
    });
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** Bytes queued in the socket, not yet sent. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  send(data: Buffer | string): boolean {
    if (!this.open) return false;
    this.#ws.send(data);
    return true;
  }

  /** Closes with `code` and waits for the close (at most `timeoutMs`, then cuts the socket). */
  async close(code: number, reason: string, timeoutMs: number): Promise<void> {
    this.stopPing();
    if (this.#closed) return;
    if (this.open) this.#ws.close(code, reason);
    else this.#ws.terminate();
    await new Promise<void>((resolve) => {
      const timer = this.options.clock.setTimeout(resolve, timeoutMs);
      this.#closedWaiters.push(() => {
        this.options.clock.clearTimeout(timer);
        resolve();
      });
    });
    this.#ws.terminate();
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    const bytes = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    if (isBinary) {
      this.handlers.onBinary(bytes);
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      this.options.log.warn('ignored a data-link message that is not JSON');
      return;
    }
    const parsed = DataCloudMessage.safeParse(json);
    if (!parsed.success) {
      // Only the paths and the complaints: a group_join carries a token.
      const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`);
      this.options.log.warn({ issues }, 'ignored an invalid message on the data link');
      return;
    }
    this.handlers.onText(parsed.data);
  }

  private ping(): void {
    this.#pingTimer = this.options.clock.setTimeout(() => {
      this.#pingTimer = null;
      if (!this.open) return;
      if (this.#awaitingPong) {
        this.#detail ??= 'no pong from the cloud in time';
        this.#ws.terminate();
        return;
      }
      this.#awaitingPong = true;
      this.#ws.ping();
      this.ping();
    }, this.options.pingIntervalMs);
  }

  private stopPing(): void {
    if (this.#pingTimer !== null) this.options.clock.clearTimeout(this.#pingTimer);
    this.#pingTimer = null;
  }
}

function refusalCode(body: string): string {
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(body));
    if (parsed.success) return ` (${parsed.data.code}: ${parsed.data.message.slice(0, 200)})`;
  } catch {
    // Not the standard body.
  }
  return '';
}
