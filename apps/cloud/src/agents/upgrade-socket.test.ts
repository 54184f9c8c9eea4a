import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { completeUpgrade, MAX_EARLY_BYTES, watchHangUp } from './upgrade-socket';

type Upgrade = { req: http.IncomingMessage; socket: Duplex; head: Buffer };

/** A real HTTP server on 127.0.0.1 whose upgrades the test takes one by one. */
async function upgradeServer() {
  const server = http.createServer();
  const upgrades: Upgrade[] = [];
  const waiting: Array<(u: Upgrade) => void> = [];
  server.on('upgrade', (req, socket, head) => {
    const next = waiting.shift();
    if (next) next({ req, socket, head });
    else upgrades.push({ req, socket, head });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    next: () =>
      new Promise<Upgrade>((resolve) => {
        const ready = upgrades.shift();
        if (ready) resolve(ready);
        else waiting.push(resolve);
      }),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const upgradeRequest = (port: number) =>
  [
    'GET /ws HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    '',
    '',
  ].join('\r\n');

/** One masked client text frame (RFC 6455 §5.2), short payload. */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] ?? 0)));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

describe('upgrade sockets', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup() {
    const server = await upgradeServer();
    const wss = new WebSocketServer({ noServer: true });
    cleanups.push(
      () => server.close(),
      () => wss.close(),
    );
    return { server, wss };
  }

  it('sees a client that hangs up while its upgrade waits, and then upgrades nothing', async () => {
    const { server, wss } = await setup();
    const client = net.connect(server.port, '127.0.0.1', () => client.end(upgradeRequest(server.port)));
    cleanups.push(() => client.destroy());
    const { req, socket, head } = await server.next();
    const hangUp = watchHangUp(socket, head);
    await until(hangUp.gone, 'the hang-up to be seen');
    // ws drops a socket that can no longer be read without calling back: this must still settle.
    await expect(completeUpgrade(wss, req, socket, hangUp.release())).resolves.toBeNull();
    expect(socket.destroyed).toBe(true);
  });

  it('keeps what a live client sent while its upgrade waited, for the WebSocket', async () => {
    const { server, wss } = await setup();
    const client = net.connect(server.port, '127.0.0.1', () =>
      client.write(Buffer.concat([Buffer.from(upgradeRequest(server.port)), maskedTextFrame('early')])),
    );
    cleanups.push(() => client.destroy());
    const replies: Buffer[] = [];
    client.on('data', (chunk) => replies.push(chunk));
    const { req, socket, head } = await server.next();
    const hangUp = watchHangUp(socket, head);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the wait in the queue
    expect(hangUp.gone()).toBe(false);
    const ws = (await completeUpgrade(wss, req, socket, hangUp.release())) as WebSocket;
    expect(ws).not.toBeNull();
    const message = await new Promise<string>((resolve) =>
      ws.once('message', (data) => resolve(String(data))),
    );
    expect(message).toBe('early');
    await until(() => Buffer.concat(replies).toString().startsWith('HTTP/1.1 101'), 'the 101');
    ws.terminate();
  });

  it('cuts off a client that sends more than MAX_EARLY_BYTES before its 101, instead of buffering it', async () => {
    const { server } = await setup();
    const client = net.connect(server.port, '127.0.0.1', () => {
      client.write(upgradeRequest(server.port));
      client.write(Buffer.alloc(MAX_EARLY_BYTES + 1024));
    });
    client.on('error', () => {});
    cleanups.push(() => client.destroy());
    const { socket, head } = await server.next();
    const hangUp = watchHangUp(socket, head);
    await until(hangUp.gone, 'the flood to be cut off');
    expect(socket.destroyed).toBe(true);
  });
});
