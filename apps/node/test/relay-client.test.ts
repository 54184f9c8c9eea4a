import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { FINGERPRINT_HEADER } from '@canopy/protocol';
import {
  type AckMessage,
  type DataCloudMessage,
  DataNodeMessage,
  decodeRelay,
  encodeDeliver,
  type FramesMessage,
  type RelayFrame,
} from '@canopy/protocol/relay';
import type { RempMessage } from '@canopy/remp';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { Agent, type SimProcess, startSim } from '../../../tools/dongle-sim/test/harness';
import { Bridge } from '../src/bridge/bridge';
import { startHealthServer } from '../src/health';
import { DataLink } from '../src/relay/data-link';
import { dataWsUrl } from '../src/relay/url';
import { waitFor } from './cli-process';

// canopy-node's data link (spec 002 §13.3) against a real canopy-dongle-sim over UDP on 127.0.0.1, with the
// node's bridge (discovery on `lo` only, a random discovery port) and DataLink in this process. The far end of
// the WebSocket is a minimal relay stand-in in this file: it speaks the wire contract of
// @canopy/protocol/relay and records what the node sends, nothing more.

const AGENT_TOKEN = `cnt_${randomBytes(24).toString('hex')}`;
const FINGERPRINT = 'fp-relay-client-test';

/** The cloud's end of /ws/data, as small as it can be. */
class FarEnd {
  readonly server = http.createServer((_req, res) => res.writeHead(404).end());
  readonly wss = new WebSocketServer({ server: this.server, path: '/ws/data' });
  readonly upgrades: Array<{ url: string; authorization?: string; fingerprint?: string }> = [];
  readonly texts: DataNodeMessage[] = [];
  readonly frames: FramesMessage[] = [];
  readonly acks: AckMessage[] = [];
  ws: WebSocket | null = null;

  async listen(): Promise<string> {
    this.wss.on('connection', (ws, req) => {
      this.upgrades.push({
        url: req.url ?? '',
        authorization: req.headers.authorization,
        fingerprint: req.headers[FINGERPRINT_HEADER] as string | undefined,
      });
      this.ws = ws;
      ws.on('message', (data, isBinary) => {
        const bytes = data as Buffer;
        if (!isBinary) {
          this.texts.push(DataNodeMessage.parse(JSON.parse(bytes.toString('utf8'))));
          return;
        }
        const m = decodeRelay(bytes);
        if (!m.ok) throw new Error(`the node sent a bad relay message: ${m.error.message}`);
        if (m.value.kind === 'frames') this.frames.push(m.value);
        else if (m.value.kind === 'ack') this.acks.push(m.value);
      });
      this.send({ type: 'data_welcome', max_batch: 1024 });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  send(message: DataCloudMessage | Record<string, unknown> | string): void {
    this.ws?.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  deliver(groupId: string, epoch: number, firstSeq: number, frames: RelayFrame[]): void {
    this.ws?.send(encodeDeliver({ groupId, to: 'a', epoch, firstSeq, frames }));
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Frames numbered like the simulator's `counter` pattern: data[0..3] = n, big-endian, per CAN id. */
const numbered = (id: number, from: number, count: number): RelayFrame[] =>
  Array.from({ length: count }, (_, i) => {
    const data = Buffer.alloc(8);
    data.writeUInt32BE(from + i, 0);
    return { tsUs: BigInt(Date.now()) * 1000n, id, extended: false, flags: 0, data };
  });

type Sink = {
  frames: number;
  gaps: number;
  missing: number;
  duplicates: number;
  out_of_order: number;
};

describe('the data link against canopy-dongle-sim and a relay stand-in', () => {
  const discoveryPort = randomInt(40_000, 50_000);
  const token = randomBytes(32);
  const groupId = randomUUID();
  const epoch = randomInt(1, 2 ** 31);
  const logLines: string[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  );
  const far = new FarEnd();
  let sim: SimProcess;
  let deviceId: string;
  let bridge: Bridge;
  let link: DataLink;
  let health: Awaited<ReturnType<typeof startHealthServer>>;

  const dongle = async () => (await sim.api('GET', `/dongles/${deviceId}`)).body as Record<string, unknown>;
  const sink = async () => (await sim.api('GET', `/dongles/${deviceId}/sink`)).body as unknown as Sink;
  const join = (resume = { epoch: 0, seq: 0 }, id = deviceId, group = groupId) =>
    far.send({
      type: 'group_join',
      group_id: group,
      side: 'a',
      device_id: id,
      token: token.toString('base64'),
      resume,
    });
  const leave = (group = groupId) =>
    far.send({ type: 'group_leave', group_id: group, side: 'a', reason: 'test' });
  const lastAck = () => far.acks.at(-1);

  beforeAll(async () => {
    sim = await startSim([
      '--discovery-port',
      String(discoveryPort),
      '--remp-port-base',
      '0',
      '--seed',
      randomBytes(4).toString('hex'),
    ]);
    deviceId = sim.dongles[0]?.deviceId as string;
    const port = sim.dongles[0]?.port as number;

    // Paired from another socket, as the cloud's pairing would: the node is not the dongle's remote yet.
    const agent = await Agent.open();
    const pairingAck = async () => {
      const [r] = await agent.take((x) => x.kind === 'remp' && x.message.type === 'pairing');
      const m = r?.message as RempMessage | undefined;
      if (m?.type !== 'pairing' || m.pairing.action !== 'ack') throw new Error('no pairing ACK');
      return m.pairing;
    };
    agent.remp(
      port,
      { type: 'pairing', pairing: { action: 'start', corrId: randomUUID(), seconds: 0 } },
      new Uint8Array(0),
    );
    const startAck = await pairingAck();
    if (!startAck.pairingNonce) throw new Error('no pairing nonce');
    const pin = ((await dongle()).pairing as { pin: string }).pin;
    agent.remp(
      port,
      {
        type: 'pairing',
        pairing: {
          action: 'submit',
          corrId: randomUUID(),
          seconds: 0,
          pin,
          pairingNonce: startAck.pairingNonce,
          token,
        },
      },
      new Uint8Array(0),
    );
    expect(await pairingAck()).toMatchObject({ status: 'ok' });
    expect((await dongle()).remote).toMatchObject({ port: agent.port });
    agent.close();

    const cloudUrl = await far.listen();
    bridge = new Bridge({
      settings: { enabled: true, interfaces: ['lo'], port: discoveryPort, debug: false },
      log,
      report: async () => undefined,
      onFrame: (from, header, frame) => link?.onFrame(from, header, frame),
    });
    link = new DataLink({
      url: dataWsUrl(cloudUrl),
      agentToken: AGENT_TOKEN,
      fingerprint: FINGERPRINT,
      log,
      remp: bridge.remp,
      targetOf: (id) => bridge.registry.target(id),
    });
    health = await startHealthServer({
      port: 0,
      version: 'test',
      nodeId: null,
      status: () => ({ state: 'CONNECTED', wsConnected: true, reconnects: 0 }),
      lastTaskAt: () => null,
      relay: () => link.status(),
      log,
    });
    await bridge.start();
    link.start();
    await waitFor('the data link', () => link.status().connected || undefined, 5000);
  });

  afterAll(async () => {
    await link?.stop();
    await bridge?.stop();
    await health?.close();
    await far.close();
    await sim?.stop();
  });

  it('authenticates like the control channel: bearer token and fingerprint in headers, none in the URL', () => {
    expect(far.upgrades[0]).toEqual({
      url: '/ws/data',
      authorization: `Bearer ${AGENT_TOKEN}`,
      fingerprint: FINGERPRINT,
    });
  });

  it('becomes the dongle’s remote on group_join and writes DELIVERs that came before it was sure of it', async () => {
    await sim.api('DELETE', `/dongles/${deviceId}/sink`);
    // Sent at once: the bridge may not have discovered the dongle yet; the frames wait for the dongle's answer.
    join();
    far.deliver(groupId, epoch, 1, numbered(0x300, 0, 200));
    await waitFor('the node to be the remote', async () => {
      const remote = (await dongle()).remote as { port: number } | undefined;
      return remote?.port === bridge.remp.port || undefined;
    });
    const s = await waitFor('200 frames on the bus', async () => {
      const got = await sink();
      return got.frames >= 200 ? got : undefined;
    });
    expect(s).toMatchObject({ frames: 200, gaps: 0, missing: 0, duplicates: 0, out_of_order: 0 });
    await waitFor('the ACK', () => (lastAck()?.seq === 200 ? true : undefined), 2000);
    expect(lastAck()).toMatchObject({ groupId, side: 'a', epoch, seq: 200 });
    expect(link.status().sides).toMatchObject([{ groupId, side: 'a', deviceId, state: 'bridging' }]);
  });

  it('sends the dongle’s bus frames up as FRAMES, batched, in order, none missing', async () => {
    far.frames.length = 0;
    const count = 27_000;
    const ids = ['0x100', '0x101', '0x102', '0x103'];
    const started = Date.now();
    const reply = await sim.api('POST', `/dongles/${deviceId}/traffic`, { rate: 9000, ids, count });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const total = () => far.frames.reduce((n, m) => n + m.frames.length, 0);
    await waitFor('every frame up', () => (total() >= count ? true : undefined), 20_000);
    const elapsed = Date.now() - started;
    expect(total()).toBe(count);
    const next = new Map<number, number>();
    for (const message of far.frames) {
      expect(message).toMatchObject({ groupId, from: 'a' });
      for (const f of message.frames) {
        const n = Buffer.from(f.data).readUInt32BE(0);
        expect(n).toBe(next.get(f.id) ?? 0);
        next.set(f.id, n + 1);
        expect(f.flags & 0x01).toBe(1); // as received: the simulator marks its frames simulated
      }
    }
    expect([...next.values()]).toEqual([count / 4, count / 4, count / 4, count / 4]);
    const ts = Number(far.frames[0]?.frames[0]?.tsUs ?? 0n) / 1000;
    expect(Math.abs(ts - Date.now())).toBeLessThan(60_000);
    const sizes = far.frames.map((m) => m.frames.length);
    console.log(
      `up: ${count} frames at 9,000/s in ${elapsed} ms, ${far.frames.length} FRAMES messages ` +
        `(mean ${(count / far.frames.length).toFixed(1)}, max ${Math.max(...sizes)} frames)`,
    );
    expect(link.status().frames.up).toBeGreaterThanOrEqual(count);
  });

  it('writes DELIVERs to the bus in order, drops a repeat, reports a gap once and acknowledges', async () => {
    await sim.api('DELETE', `/dongles/${deviceId}/sink`);
    far.texts.length = 0;
    const started = Date.now();
    // 10,000 frames (seq 201..10200) in 20 DELIVERs sent back to back: the node paces them onto the bus.
    for (let i = 0; i < 20; i++) far.deliver(groupId, epoch, 201 + i * 500, numbered(0x301, i * 500, 500));
    await waitFor('10,000 frames on the bus', async () =>
      (await sink()).frames >= 10_000 ? true : undefined,
    );
    console.log(`down: 10,000 frames from 20 DELIVERs on the bus in ${Date.now() - started} ms`);
    // A repeat of what was written, then what follows it: only the latter reaches the bus.
    far.deliver(groupId, epoch, 201, numbered(0x301, 0, 500));
    far.deliver(groupId, epoch, 10_201, numbered(0x301, 10_000, 100));
    // seq 10,301..10,400 never come: a gap. The frames after it are still written.
    far.deliver(groupId, epoch, 10_401, numbered(0x301, 10_100, 100));
    const s = await waitFor('10,200 frames', async () => {
      const got = await sink();
      return got.frames >= 10_200 ? got : undefined;
    });
    expect(s).toMatchObject({ frames: 10_200, gaps: 0, missing: 0, duplicates: 0, out_of_order: 0 });
    await waitFor('the gap report', () => (far.texts.some((t) => t.type === 'gap') ? true : undefined), 2000);
    expect(far.texts.filter((t) => t.type === 'gap')).toEqual([
      { type: 'gap', group_id: groupId, side: 'a', epoch, expected: 10_301, got: 10_401 },
    ]);
    await waitFor('the last ACK', () => (lastAck()?.seq === 10_500 ? true : undefined), 2000);
    const status = link.status();
    expect(status.duplicates).toBeGreaterThanOrEqual(500);
    expect(status.gaps).toBe(1);
    expect(status.missing).toBe(100);
  });

  it('counts afresh in a new epoch', async () => {
    far.deliver(groupId, epoch + 1, 1, numbered(0x301, 10_200, 50));
    await waitFor('the ACK of the new epoch', () =>
      lastAck()?.epoch === epoch + 1 && lastAck()?.seq === 50 ? true : undefined,
    );
    expect(await sink()).toMatchObject({ frames: 10_250, duplicates: 0, gaps: 0 });
  });

  it('ignores an invalid text message and keeps the connection', async () => {
    far.send('{"type":"group_join","group_id":"nope"}');
    far.send('not json');
    far.deliver(groupId, epoch + 1, 51, numbered(0x301, 10_250, 10));
    await waitFor('the ACK after the bad messages', () => (lastAck()?.seq === 60 ? true : undefined));
    expect(far.upgrades).toHaveLength(1);
  });

  it('shows the joined side in /health, without a token', async () => {
    const res = await fetch(`http://127.0.0.1:${health?.port}/health`);
    const text = await res.text();
    const body = JSON.parse(text);
    expect(body.relay).toMatchObject({
      enabled: true,
      connected: true,
      sides: [{ groupId, side: 'a', deviceId, state: 'bridging', framesDown: 10_460 }],
      frames: { down: 10_460 },
      gaps: 1,
    });
    expect(body.relay.frames.up).toBeGreaterThanOrEqual(27_000);
    expect(text).not.toContain(token.toString('base64'));
    expect(text).not.toContain(AGENT_TOKEN);
  });

  it('resumes after a reconnect: the cloud joins again and the frames already written are dropped', async () => {
    far.ws?.terminate();
    await waitFor(
      'the reconnect',
      () => (far.upgrades.length === 2 && link.status().connected) || undefined,
      5000,
    );
    expect(far.upgrades[1]).toEqual(far.upgrades[0]);
    expect(link.status().sides).toEqual([]);
    // The cloud knows seq 60 of this epoch was written, and replays from an earlier entry.
    join({ epoch: epoch + 1, seq: 60 });
    far.deliver(groupId, epoch + 1, 41, numbered(0x301, 10_240, 40));
    await waitFor('the ACK after the resume', () => (lastAck()?.seq === 80 ? true : undefined));
    expect(await sink()).toMatchObject({ frames: 10_280, duplicates: 0, gaps: 0, out_of_order: 0 });
  });

  it('reports DONGLE_UNKNOWN for a dongle this node does not see', async () => {
    const other = randomUUID();
    join({ epoch: 0, seq: 0 }, 'ffffffffffffff01', other);
    const error = await waitFor(
      'side_error',
      () => far.texts.find((t) => t.type === 'side_error' && t.group_id === other),
      6000,
    );
    expect(error).toMatchObject({ code: 'DONGLE_UNKNOWN', side: 'a' });
    leave(other);
  });

  it('reports TOKEN_REJECTED when the dongle was reset, and writes nothing to it', async () => {
    expect((await sim.api('POST', `/dongles/${deviceId}/factory-reset`)).status).toBe(200);
    const failuresBefore = ((await dongle()).counters as { auth_failures: number }).auth_failures;
    leave();
    join({ epoch: epoch + 1, seq: 80 });
    const error = await waitFor(
      'side_error',
      () => far.texts.find((t) => t.type === 'side_error' && t.group_id === groupId),
      6000,
    );
    expect(error).toMatchObject({ code: 'TOKEN_REJECTED', side: 'a' });
    far.deliver(groupId, epoch + 1, 81, numbered(0x301, 10_280, 100));
    await new Promise((r) => setTimeout(r, 300));
    expect(link.status().sides).toMatchObject([{ state: 'token_rejected', framesDown: 0, queued: 100 }]);
    // One rejected `get`: the frames were not sent with a token the dongle refuses.
    const failures = ((await dongle()).counters as { auth_failures: number }).auth_failures;
    expect(failures - failuresBefore).toBe(1);
  });

  it('never logs a token', () => {
    const logs = logLines.join('');
    expect(logs).toContain('bridging the dongle');
    expect(logs).not.toContain(token.toString('base64'));
    expect(logs).not.toContain(token.toString('hex'));
    expect(logs).not.toContain(AGENT_TOKEN);
  });
});
