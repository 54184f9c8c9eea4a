import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { handleCrashes, RejectionBudget } from './crash';
import { type HealthServer, type LinkStatusLike, startHealthServer } from './server';

const servers: HealthServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l)) });
  return { log, lines };
}

let link: LinkStatusLike;
async function start(overrides: Partial<Parameters<typeof startHealthServer>[0]> = {}) {
  let now = 1_000_000;
  const server = await startHealthServer({
    port: 0,
    version: '9.9.9',
    nodeId: 'node-1',
    status: () => link,
    lastTaskAt: () => new Date('2026-02-20T19:00:00Z'),
    log: captureLog().log,
    now: () => (now += 1500),
    ...overrides,
  });
  if (server) servers.push(server);
  return server;
}

const get = (port: number, path = '/health', host?: string) =>
  new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: host ? { host } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });

describe('health endpoint', () => {
  it('answers 200 healthy while connected, with the reason fields', async () => {
    link = {
      state: 'CONNECTED',
      reason: null,
      needsReenrollment: false,
      wsConnected: true,
      reconnects: 2,
      lastError: 'socket closed (1006)',
      lastConnectedAt: '2026-02-20T18:00:00.000Z',
      since: '2026-02-20T18:00:00.000Z',
    };
    const server = await start();
    const res = await get(server?.port as number);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'healthy',
      version: '9.9.9',
      uptime: 2,
      connection: 'connected',
      nodeId: 'node-1',
      lastTaskAt: '2026-02-20T19:00:00.000Z',
      wsConnected: true,
      reason: null,
      needsReenrollment: false,
      reconnects: 2,
      lastError: 'socket closed (1006)',
      lastConnectedAt: '2026-02-20T18:00:00.000Z',
      since: '2026-02-20T18:00:00.000Z',
    });
  });

  it('is healthy while polling, and 503 with the reason otherwise', async () => {
    const server = await start();
    const port = server?.port as number;
    link = { state: 'POLLING', wsConnected: false, reconnects: 5, reason: 'WebSocket failed 5 times' };
    expect((await get(port)).status).toBe(200);
    link = {
      state: 'RECONNECTING',
      wsConnected: false,
      reconnects: 6,
      reason: 'the cloud refused the WebSocket with HTTP 502',
      lastError: new Error('HTTP 502'),
    };
    const res = await get(port);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      status: 'unhealthy',
      connection: 'reconnecting',
      reason: 'the cloud refused the WebSocket with HTTP 502',
      lastError: 'HTTP 502',
      reconnects: 6,
    });
    link = {
      state: 'DISCONNECTED',
      wsConnected: false,
      reconnects: 0,
      needsReenrollment: true,
      reason: 'revoked',
    };
    expect((await get(port)).body).toMatchObject({ status: 'unhealthy', needsReenrollment: true });
  });

  it('listens on 127.0.0.1 only and answers only /health', async () => {
    link = { state: 'CONNECTED', wsConnected: true, reconnects: 0 };
    const server = await start();
    const port = server?.port as number;
    expect((await get(port, '/nope')).status).toBe(404);
    const other = Object.values((await import('node:os')).networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (other) {
      const reached = await new Promise<boolean>((resolve) => {
        const socket = net.connect(port, other.address);
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      expect(reached).toBe(false);
    }
  });

  it('refuses requests for other host names (DNS rebinding)', async () => {
    link = { state: 'CONNECTED', wsConnected: true, reconnects: 0 };
    const server = await start();
    expect((await get(server?.port as number, '/health', 'evil.example.com')).status).toBe(403);
    expect((await get(server?.port as number, '/health', `localhost:${server?.port}`)).status).toBe(200);
  });

  it('warns and carries on without the endpoint when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const { log, lines } = captureLog();
    try {
      const server = await start({ port, log });
      expect(server).toBeNull();
      expect(lines.find((l) => l.level === 40)?.msg).toMatch(
        new RegExp(`cannot listen on 127.0.0.1:${port} \\(the port is in use\\)`),
      );
    } finally {
      blocker.close();
    }
  });
});

describe('RejectionBudget', () => {
  it('tolerates five unhandled rejections a minute and trips on the sixth', () => {
    const now = 0;
    const budget = new RejectionBudget(5, 60_000, () => now);
    for (let i = 0; i < 5; i++) expect(budget.record()).toBe(false);
    expect(budget.record()).toBe(true);
  });

  it('forgets rejections older than the window', () => {
    let now = 0;
    const budget = new RejectionBudget(5, 60_000, () => now);
    for (let i = 0; i < 5; i++) budget.record();
    now = 60_000;
    expect(budget.record()).toBe(false);
    expect(budget.count).toBe(1);
  });
});

describe('handleCrashes', () => {
  function setup() {
    const target = new EventEmitter();
    const { log, lines } = captureLog();
    const calls: string[] = [];
    let exited: (code: number) => void = () => undefined;
    const exit = new Promise<number>((resolve) => {
      exited = resolve;
    });
    const remove = handleCrashes({
      log,
      target,
      flush: () => calls.push('flush'),
      shutdown: async () => {
        calls.push('shutdown');
      },
      exit: (code) => {
        calls.push(`exit ${code}`);
        exited(code);
      },
    });
    return { target, lines, calls, exit, remove };
  }

  it('logs an uncaught exception as fatal, flushes, shuts down and exits 1', async () => {
    const { target, lines, calls, exit } = setup();
    target.emit('uncaughtException', new Error('boom'));
    expect(await exit).toBe(1);
    expect(lines[0]).toMatchObject({ level: 60, err: { message: 'boom' } });
    expect(calls).toEqual(['flush', 'shutdown', 'flush', 'exit 1']);
  });

  it('survives five unhandled rejections and exits on the sixth within a minute', async () => {
    const { target, lines, calls, exit, remove } = setup();
    for (let i = 0; i < 5; i++) target.emit('unhandledRejection', new Error(`r${i}`));
    expect(calls).toEqual([]);
    expect(lines.filter((l) => l.level === 50)).toHaveLength(5);
    target.emit('unhandledRejection', new Error('r5'));
    expect(await exit).toBe(1);
    expect(lines.at(-1)).toMatchObject({ level: 60 });
    remove();
    expect(target.listenerCount('unhandledRejection')).toBe(0);
  });

  it('exits even when the shutdown hangs', async () => {
    const target = new EventEmitter();
    const code = await new Promise<number>((resolve) => {
      handleCrashes({
        log: captureLog().log,
        target,
        flush: () => undefined,
        shutdown: () => new Promise(() => undefined),
        exit: resolve,
        backstopMs: 50,
      });
      target.emit('uncaughtException', new Error('stuck'));
    });
    expect(code).toBe(1);
  });
});
