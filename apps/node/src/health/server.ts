import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** What the health endpoint needs to know about the link; the Link's status() satisfies it. */
export interface LinkStatusLike {
  state: string;
  reason?: string | null;
  needsReenrollment?: boolean;
  wsConnected: boolean;
  reconnects: number;
  lastError?: unknown;
  lastConnectedAt?: string | number | Date | null;
  /** When the link entered its current state, if it knows. */
  since?: string | number | Date | null;
}

export interface HealthBody {
  status: 'healthy' | 'unhealthy';
  version: string;
  /** Seconds since the daemon started. */
  uptime: number;
  /** The link's state, lower case: connected, polling, reconnecting, … */
  connection: string;
  nodeId: string | null;
  lastTaskAt: string | null;
  wsConnected: boolean;
  reason: string | null;
  needsReenrollment: boolean;
  reconnects: number;
  lastError: string | null;
  lastConnectedAt: string | null;
  since: string | null;
  /** Dongle discovery: on or off, the bound port, interfaces, counts (the bridge's status). */
  dongles?: unknown;
  /** The data plane: connected, the group sides bridged, frame counts, drops, gaps (never a token). */
  relay?: unknown;
  /** The device mesh: off, failed to start (why), or its ports and paired devices by status. */
  mesh?: unknown;
}

export interface HealthOptions {
  /** Always bound to 127.0.0.1; 0 picks a free port (tests). The daemon skips the server when disabled. */
  port: number;
  version: string;
  nodeId: string | null;
  status: () => LinkStatusLike;
  lastTaskAt: () => Date | null;
  /** The dongle bridge's status, shown as `dongles`. */
  dongles?: () => unknown;
  /** The data link's status, shown as `relay`. */
  relay?: () => unknown;
  /** The device mesh's status, shown as `mesh`. */
  mesh?: () => unknown;
  log: Logger;
  now?: () => number;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

const HEALTHY_STATES = new Set(['connected', 'polling']);

/** The body of GET /health; healthy while the cloud can reach this node (WS or polling). */
export function healthBody(
  options: Pick<HealthOptions, 'version' | 'nodeId'>,
  link: LinkStatusLike,
  startedAt: number,
  now: number,
  lastTaskAt: Date | null,
): HealthBody {
  const connection = String(link.state).toLowerCase();
  return {
    status: HEALTHY_STATES.has(connection) ? 'healthy' : 'unhealthy',
    version: options.version,
    uptime: Math.max(0, Math.round((now - startedAt) / 1000)),
    connection,
    nodeId: options.nodeId,
    lastTaskAt: lastTaskAt ? lastTaskAt.toISOString() : null,
    wsConnected: Boolean(link.wsConnected),
    reason: link.reason ?? null,
    needsReenrollment: Boolean(link.needsReenrollment),
    reconnects: Number(link.reconnects) || 0,
    lastError: errorText(link.lastError),
    lastConnectedAt: isoTime(link.lastConnectedAt),
    since: isoTime(link.since),
  };
}

/**
 * GET http://127.0.0.1:<port>/health (spec 000 §4): 200 when healthy, 503 otherwise, with the reason either
 * way. A busy port is a warning, not a failure: the daemon keeps running without the endpoint (null).
 */
export async function startHealthServer(options: HealthOptions): Promise<HealthServer | null> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const server = http.createServer((req, res) => {
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : `${JSON.stringify(body)}\n`);
    };
    // A web page could point a DNS name at 127.0.0.1 and read the answer; only loopback names may ask.
    if (!loopbackHost(req.headers.host)) return send(403, { error: 'forbidden host' });
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/health') return send(404, { error: 'not found' });
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'method not allowed' });
    let body: HealthBody;
    try {
      body = healthBody(options, options.status(), startedAt, now(), options.lastTaskAt());
      if (options.dongles) body.dongles = options.dongles();
      if (options.relay) body.relay = options.relay();
      if (options.mesh) body.mesh = options.mesh();
    } catch (err) {
      options.log.error({ err }, 'health: cannot read the link status');
      return send(500, { status: 'unhealthy', error: 'status unavailable' });
    }
    send(body.status === 'healthy' ? 200 : 503, body);
  });
  server.keepAliveTimeout = 1000;
  server.requestTimeout = 5000;

  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      options.log.warn(
        { port: options.port, code: err.code },
        `health endpoint not started: cannot listen on 127.0.0.1:${options.port} (${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}); set healthPort in config.json to another port, or 0 to disable it`,
      );
      resolve(false);
    });
    server.listen(options.port, '127.0.0.1', () => resolve(true));
  });
  if (!listening) return null;
  server.on('error', (err) => options.log.error({ err }, 'health endpoint error'));
  const port = (server.address() as AddressInfo).port;
  options.log.debug({ port }, 'health endpoint listening on 127.0.0.1');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function loopbackHost(host: string | undefined): boolean {
  if (!host) return true;
  const name = host
    .replace(/:\d+$/, '')
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
  return name === '127.0.0.1' || name === 'localhost' || name === '::1';
}

function isoTime(value: string | number | Date | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function errorText(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.message;
  if (typeof value === 'object' && 'message' in value) return String((value as { message: unknown }).message);
  return String(value);
}
