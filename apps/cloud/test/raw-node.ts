import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { CloudMessage } from '@canopy/protocol';
import { expect } from 'vitest';
import WebSocket from 'ws';
import type { Json, TestCloud } from './harness';

export const fingerprintOf = (seed: string) => createHash('sha256').update(seed).digest('hex');

/** A protocol-level stand-in for canopy-node: raw WS frames and HTTP calls, to pin the cloud's contract. */
export class RawNode {
  ws?: WebSocket;
  readonly frames: CloudMessage[] = [];
  closeCode?: number;
  session = '';
  constructor(
    readonly cloud: TestCloud,
    readonly agentId: string,
    readonly agentToken: string,
    readonly fingerprint: string,
  ) {}

  headers(token: string) {
    return { authorization: `Bearer ${token}`, 'x-canopy-fingerprint': this.fingerprint };
  }

  connect(
    opts: { autoPong?: boolean; token?: string; fingerprint?: string; attempt?: number } = {},
  ): Promise<CloudMessage> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.cloud.baseUrl.replace('http', 'ws')}/ws/agent`, {
        headers: {
          ...this.headers(opts.token ?? this.agentToken),
          'x-canopy-fingerprint': opts.fingerprint ?? this.fingerprint,
          ...(opts.attempt === undefined ? {} : { 'x-canopy-attempt': String(opts.attempt) }),
        },
        autoPong: opts.autoPong ?? true,
      });
      this.ws = ws;
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as CloudMessage;
        this.frames.push(frame);
        if (frame.type === 'welcome') {
          this.session = frame.token;
          resolve(frame);
        }
      });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () =>
          reject(
            Object.assign(new Error(`HTTP ${res.statusCode}`), {
              status: res.statusCode,
              body: JSON.parse(body),
            }),
          ),
        );
      });
      ws.on('close', (code) => {
        this.closeCode = code;
      });
      ws.on('error', () => {});
    });
  }

  send(message: unknown) {
    this.ws?.send(JSON.stringify(message));
  }

  async waitFor<T extends CloudMessage['type']>(
    type: T,
    pred: (f: Extract<CloudMessage, { type: T }>) => boolean = () => true,
  ) {
    await expect
      .poll(() => this.frames.some((f) => f.type === type && pred(f as never)), { timeout: 5000 })
      .toBe(true);
    return this.frames.filter((f) => f.type === type && pred(f as never)) as Array<
      Extract<CloudMessage, { type: T }>
    >;
  }

  closed(): Promise<number> {
    return new Promise((resolve) => {
      if (this.closeCode !== undefined) return resolve(this.closeCode);
      this.ws?.once('close', (code) => resolve(code));
    });
  }

  http(method: string, path: string, token: string, body?: unknown) {
    return fetch(`${this.cloud.baseUrl}/api/v1/agents${path}`, {
      method,
      headers: { ...this.headers(token), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (res) => ({ status: res.status, body: (await res.json().catch(() => undefined)) as Json }));
  }
}

/** Registers a node with an enrollment key, as `canopy-node setup` would. */
export async function registerNode(cloud: TestCloud, key: string, hostname: string): Promise<RawNode> {
  const fingerprint = fingerprintOf(hostname);
  const reply = await fetch(`${cloud.baseUrl}/api/v1/agents/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      enrollment_key: key,
      hostname,
      os: 'Linux 6.1 (x64)',
      version: '0.1.0',
      network_interfaces: [],
      fingerprint,
    }),
  });
  const body = (await reply.json()) as Json;
  expect(reply.status, JSON.stringify(body)).toBe(201);
  return new RawNode(cloud, body.agent_id, body.agent_token, fingerprint);
}

/** A node's /ws/data connection (raw frames), open once `data_welcome` came. */
export class DataSocket {
  readonly messages: Json[] = [];
  readonly closed: Promise<number>;
  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  }

  static open(cloud: TestCloud, node: RawNode): Promise<DataSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${cloud.baseUrl.replace('http', 'ws')}/ws/data`, {
        headers: node.headers(node.agentToken),
      });
      const socket = new DataSocket(ws);
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const message = JSON.parse(data.toString());
        socket.messages.push(message);
        if (message.type === 'data_welcome') resolve(socket);
      });
      ws.on('unexpected-response', (_req, res) => refused(res, reject));
      ws.on('error', () => {});
    });
  }

  joins(groupId: string): string[] {
    return this.messages
      .filter((m) => m.type === 'group_join' && m.group_id === groupId)
      .map((m) => m.side)
      .sort();
  }
}

/** Rejects with the status and standard error body of a refused upgrade. */
function refused(res: IncomingMessage, reject: (err: unknown) => void): void {
  let body = '';
  res.on('data', (chunk) => {
    body += chunk;
  });
  res.on('end', () =>
    reject(
      Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body: JSON.parse(body) }),
    ),
  );
}
