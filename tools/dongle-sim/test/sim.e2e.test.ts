import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CLI_ALLOWLIST,
  CliAssembler,
  type CliMessage,
  type DiscoveryMessage,
  encodeDiscovery,
  FLAG_AUTH_REJECTED,
  type RempMessage,
} from '@canopy/remp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, ensureBuilt, type SimProcess, startSim } from './harness';

/*
 * The built canopy-dongle-sim over real UDP on loopback. Safety: every datagram goes to 127.0.0.1 or to
 * 127.255.255.255; ports are random (discovery) or ephemeral (REMP, control), since other tests run alongside.
 */

type Remp<T extends RempMessage['type']> = {
  kind: 'remp';
  message: Extract<RempMessage, { type: T }>;
  port: number;
};
type Disc = { kind: 'discovery'; message: Extract<DiscoveryMessage, { type: 'announce' }>; port: number };
type CliResponse = Extract<CliMessage, { action: 'response' }>;

const isAnnounce = (r: { kind: string; message: unknown }): r is Disc =>
  r.kind === 'discovery' && (r.message as DiscoveryMessage).type === 'announce';
const isType =
  <T extends RempMessage['type']>(type: T, port?: number) =>
  (r: { kind: string; message: unknown; port: number }): r is Remp<T> =>
    r.kind === 'remp' && (r.message as RempMessage).type === type && (port === undefined || r.port === port);
const cliFor =
  (corrId: string) =>
  (r: { kind: string; message: unknown; port: number }): r is Remp<'cli'> =>
    isType('cli')(r) && r.message.cli.corrId === corrId;
const pairingFor =
  (corrId: string) =>
  (r: { kind: string; message: unknown; port: number }): r is Remp<'pairing'> =>
    isType('pairing')(r) && r.message.pairing.corrId === corrId;

const NO_TOKEN = new Uint8Array(0);
const DISCOVERY_PORT = randomInt(40000, 50000);

let sim: SimProcess;
let agent: Agent;

beforeAll(async () => {
  ensureBuilt();
  sim = await startSim([
    '--count',
    '3',
    '--discovery-port',
    String(DISCOVERY_PORT),
    '--remp-port-base',
    '0',
    '--seed',
    `e2e-${randomUUID()}`,
    '--cooldown-seconds',
    '2',
    '--cli-timeout-ms',
    '1000',
  ]);
  agent = await Agent.open();
});

afterAll(async () => {
  agent?.close();
  if (sim && sim.child.exitCode === null) {
    sim.child.kill('SIGKILL');
    await sim.exited;
  }
});

/** Pairs dongle `index` as a node agent would: START, the PIN read off the "display", SUBMIT. */
async function pair(index: number): Promise<Uint8Array> {
  const port = sim.dongles[index]?.port as number;
  const corrId = randomUUID();
  agent.remp(port, { type: 'pairing', pairing: { action: 'start', corrId, seconds: 0 } }, NO_TOKEN);
  const [started] = await agent.take(pairingFor(corrId));
  const ack = started?.message.pairing;
  if (ack?.action !== 'ack' || ack.status !== 'ok' || !ack.pairingNonce) throw new Error('START was not ok');
  const state = await sim.api<{ pairing: { pin: string; pairing_nonce: string } }>(
    'GET',
    `/dongles/${index}`,
  );
  expect(state.body.pairing.pairing_nonce).toBe(Buffer.from(ack.pairingNonce).toString('hex'));
  const token = new Uint8Array(randomBytes(32));
  const submit = randomUUID();
  agent.remp(
    port,
    {
      type: 'pairing',
      pairing: {
        action: 'submit',
        corrId: submit,
        seconds: 0,
        pin: state.body.pairing.pin,
        pairingNonce: ack.pairingNonce,
        token,
      },
    },
    NO_TOKEN,
  );
  const [done] = await agent.take(pairingFor(submit));
  expect(done?.message.pairing).toMatchObject({ action: 'ack', status: 'ok' });
  return token;
}

/** Sends a CMD_REQ and reassembles its CMD_RSP chunks. */
async function cli(index: number, command: string, token: Uint8Array, timeoutMs = 5000) {
  const corrId = randomUUID();
  agent.remp(
    sim.dongles[index]?.port as number,
    { type: 'cli', cli: { action: 'request', corrId, allowDangerous: false, command } },
    token,
  );
  const assembler = new CliAssembler();
  const chunks: Array<Remp<'cli'>> = [];
  for (;;) {
    const [chunk] = await agent.take(cliFor(corrId), 1, timeoutMs);
    chunks.push(chunk as Remp<'cli'>);
    const result = assembler.add(chunk?.message.cli as CliResponse);
    if (result) return { result, chunks };
  }
}

describe('canopy-dongle-sim over UDP', () => {
  it('prints one line per dongle and answers a broadcast DISCOVER with one ANNOUNCE per dongle', async () => {
    expect(sim.dongles).toHaveLength(3);
    agent.send(
      DISCOVERY_PORT,
      encodeDiscovery({ type: 'discover', seq: 4242, legacy: false }),
      '127.255.255.255',
    );
    const announces = await agent.take(isAnnounce, 3);
    expect(announces.map((a) => a.message.announce.deviceId).sort()).toEqual(
      sim.dongles.map((d) => d.deviceId).sort(),
    );
    for (const a of announces) {
      const dongle = sim.dongles.find((d) => d.deviceId === a.message.announce.deviceId);
      expect(a.port).toBe(dongle?.port); // sent from the dongle's REMP socket
      expect(a.message).toMatchObject({ seq: 4242, legacy: false });
      expect(a.message.announce).toMatchObject({
        udpPort: dongle?.port,
        fwBuild: 'sim-2026.11',
        protoVer: 1,
        lanIp: '127.0.0.1',
        pairingState: 0,
      });
      expect(a.message.announce.pairingNonce).toBeUndefined();
    }
    agent.send(
      DISCOVERY_PORT,
      encodeDiscovery({ type: 'discover', seq: 77, legacy: true }),
      '127.255.255.255',
    );
    const legacy = await agent.take(isAnnounce, 3);
    expect(legacy.every((a) => a.message.legacy && a.message.seq === 77)).toBe(true);
  });

  it('pairs, answers an authenticated help, and denies a wrong token with FLAG_AUTH_REJECTED', async () => {
    const token = await pair(0);
    const help = await cli(0, 'help', token);
    expect(help.result).toMatchObject({ status: 'ok', exitCode: 0 });
    for (const command of CLI_ALLOWLIST) expect(help.result.stdout).toContain(command);
    expect(help.chunks[0]?.message.flags).toBe(0);

    const wrong = Uint8Array.from(token, (b) => b ^ 0xff);
    const denied = await cli(0, 'help', wrong);
    expect(denied.result).toMatchObject({ status: 'denied', stderr: 'token rejected\n' });
    expect((denied.chunks[0]?.message.flags ?? 0) & FLAG_AUTH_REJECTED).toBe(FLAG_AUTH_REJECTED);

    const state = await sim.api<{ paired: boolean; counters: { auth_failures: number } }>(
      'GET',
      '/dongles/0',
    );
    expect(state.body.paired).toBe(true);
    expect(state.body.counters.auth_failures).toBe(1);
  });

  it('carries the pairing nonce in ANNOUNCE while in pairing mode', async () => {
    const pressed = await sim.api<{ pin: string; pairing_nonce: string }>('POST', '/dongles/2/pairing-mode');
    expect(pressed.status).toBe(200);
    expect(pressed.body.pin).toMatch(/^[0-9]{6}$/);
    agent.send(
      DISCOVERY_PORT,
      encodeDiscovery({ type: 'discover', seq: 5, legacy: false }),
      '127.255.255.255',
    );
    const announces = await agent.take(isAnnounce, 3);
    const two = announces.find((a) => a.message.announce.deviceId === sim.dongles[2]?.deviceId);
    expect(two?.message.announce.pairingState).toBe(1);
    expect(Buffer.from(two?.message.announce.pairingNonce ?? []).toString('hex')).toBe(
      pressed.body.pairing_nonce,
    );
    expect(sim.output.some((l) => l.includes(`PAIRING MODE — PIN ${pressed.body.pin}`))).toBe(true);
  });

  it('splits long output into chunks that reassemble in order', async () => {
    const token = await pair(0);
    const knob = await sim.api('POST', '/dongles/0/cli', { pad_bytes: 20_000 });
    expect(knob.body).toEqual({ delay_ms: 0, pad_bytes: 20_000 });
    const long = await cli(0, 'remote stats', token);
    expect(long.chunks.length).toBeGreaterThanOrEqual(20);
    expect(long.result.status).toBe('ok');
    const pads = long.result.stdout.split('\n').filter((l) => l.startsWith('pad '));
    expect(pads.slice(0, 312).map((l) => Number(l.slice(4, 10)))).toEqual(
      Array.from({ length: 312 }, (_, i) => i + 1),
    );
    expect(long.result.stdout).toContain('auth_failures:');
  });

  it('answers timeout when a command takes longer than the CLI timeout', async () => {
    const token = await pair(0);
    await sim.api('POST', '/dongles/0/cli', { delay_ms: 1500 });
    const started = Date.now();
    const slow = await cli(0, 'time status', token);
    expect(slow.result).toMatchObject({ status: 'timeout', exitCode: 124 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await sim.api('POST', '/dongles/0/cli', { delay_ms: 200 });
    expect((await cli(0, 'time status', token)).result.status).toBe('ok');
    await sim.api('POST', '/dongles/0/cli', { delay_ms: 0 });
  });

  it('gets and sets the CAN config, and refuses an invalid one', async () => {
    const token = await pair(1);
    const port = sim.dongles[1]?.port as number;
    const ask = async (config: Extract<RempMessage, { type: 'can_config' }>['config']) => {
      agent.remp(port, { type: 'can_config', config }, token);
      const [reply] = await agent.take(isType('can_config', port));
      return reply?.message.config;
    };
    const current = await ask({
      action: 'get',
      status: 'ok',
      config: {
        bitrate: 0,
        samplePointPermille: 0,
        prescaler: 0,
        sjw: 0,
        tseg1: 0,
        tseg2: 0,
        mode: 'normal',
        flags: { useRaw: false, autoRetx: false, txPause: false, protocolExc: false },
      },
    });
    expect(current).toMatchObject({ action: 'response', status: 'ok', config: { bitrate: 500000 } });
    const base = current?.config as NonNullable<typeof current>['config'];
    expect(await ask({ action: 'set', status: 'ok', config: { ...base, bitrate: 250000 } })).toMatchObject({
      status: 'ok',
      config: { bitrate: 250000, prescaler: 20 },
    });
    expect(await ask({ action: 'set', status: 'ok', config: { ...base, bitrate: 333333 } })).toMatchObject({
      status: 'invalid',
      config: { bitrate: 250000 },
    });
    await sim.api('POST', '/dongles/1/can-config/fail-next');
    expect(await ask({ action: 'set', status: 'ok', config: { ...base, bitrate: 125000 } })).toMatchObject({
      status: 'apply_failed',
      config: { bitrate: 250000 },
    });
    expect((await cli(1, 'can cfg show', token)).result.stdout).toContain('bitrate:       250000 bit/s');
  });

  it('answers an OBD-II RPM request from 0x7E8', async () => {
    const token = await pair(1);
    const port = sim.dongles[1]?.port as number;
    agent.remp(
      port,
      {
        type: 'can_frame',
        frame: { id: 0x7df, extended: false, flags: 0, data: Uint8Array.of(0x02, 0x01, 0x0c, 0, 0, 0, 0, 0) },
      },
      token,
    );
    const [reply] = await agent.take(isType('can_frame', port));
    const frame = reply?.message.frame;
    expect(frame).toMatchObject({ id: 0x7e8, extended: false, flags: 1 });
    const data = frame?.data ?? new Uint8Array(0);
    expect(Array.from(data.subarray(0, 3))).toEqual([0x04, 0x41, 0x0c]);
    const rpm = ((data[3] as number) * 256 + (data[4] as number)) / 4;
    expect(rpm).toBeGreaterThanOrEqual(800);
    expect(rpm).toBeLessThanOrEqual(3500);
  });

  it('enters a cooldown after 5 wrong PINs, and leaves it', async () => {
    const port = sim.dongles[2]?.port as number;
    const start = randomUUID();
    agent.remp(port, { type: 'pairing', pairing: { action: 'start', corrId: start, seconds: 0 } }, NO_TOKEN);
    const [ack] = await agent.take(pairingFor(start));
    const nonce = ack?.message.pairing.action === 'ack' ? ack.message.pairing.pairingNonce : undefined;
    const { body } = await sim.api<{ pairing: { pin: string } }>('GET', '/dongles/2');
    const wrongPin = body.pairing.pin === '000000' ? '111111' : '000000';
    const statuses: string[] = [];
    for (let i = 0; i < 5; i++) {
      const corrId = randomUUID();
      agent.remp(
        port,
        {
          type: 'pairing',
          pairing: {
            action: 'submit',
            corrId,
            seconds: 0,
            pin: wrongPin,
            pairingNonce: nonce ?? new Uint8Array(16),
            token: new Uint8Array(32),
          },
        },
        NO_TOKEN,
      );
      const [reply] = await agent.take(pairingFor(corrId));
      statuses.push(reply?.message.pairing.action === 'ack' ? reply.message.pairing.status : '?');
    }
    expect(statuses).toEqual(['invalid_pin', 'invalid_pin', 'invalid_pin', 'invalid_pin', 'cooldown']);
    const cooling = await sim.api<{ pairing: { state: string; cooldown_seconds_left: number } }>(
      'GET',
      '/dongles/2',
    );
    expect(cooling.body.pairing).toMatchObject({ state: 'cooldown', cooldown_seconds_left: 2 });
    expect((await sim.api('POST', '/dongles/2/pairing-mode')).status).toBe(409);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await sim.api('POST', '/dongles/2/pairing-mode')).status).toBe(200);
  });

  it('sends a traffic burst in order, and its sink checks frames sent to it', async () => {
    const token = await pair(0);
    const port = sim.dongles[0]?.port as number;
    // Make this agent the remote (the sender of the last authenticated message).
    await cli(0, 'time status', token);
    const started = await sim.api<{ running: boolean }>('POST', '/dongles/0/traffic', {
      rate: 9000,
      ids: ['0x100', 0x101],
      count: 2000,
    });
    expect(started.status).toBe(200);
    const frames = await agent.take(isType('can_frame', port), 2000, 10_000);
    const seqs = new Map<number, number[]>();
    for (const f of frames) {
      const { id, data } = f.message.frame;
      seqs.set(id, [...(seqs.get(id) ?? []), new DataView(data.buffer, data.byteOffset).getUint32(0)]);
    }
    expect(seqs.get(0x100)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(seqs.get(0x101)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const status = await sim.api<{ running: boolean; sent: number; achieved_rate: number }>(
      'GET',
      '/dongles/0/traffic',
    );
    expect(status.body).toMatchObject({ running: false, sent: 2000 });
    // One timer per frame could not pass 1,000 frames/s; the batched pacing gets near the target.
    expect(status.body.achieved_rate).toBeGreaterThan(2000);

    await sim.api('DELETE', '/dongles/0/sink');
    const frame = (seq: number) => {
      const data = new Uint8Array(8);
      new DataView(data.buffer).setUint32(0, seq);
      return { type: 'can_frame' as const, frame: { id: 0x321, extended: false, flags: 0, data } };
    };
    for (let seq = 0; seq < 200; seq++) agent.remp(port, frame(seq), token);
    agent.remp(port, frame(205), token);
    agent.remp(port, frame(100), token);
    let sink = await sim.api<{ frames: number; gaps: number; missing: number; duplicates: number }>(
      'GET',
      '/dongles/0/sink',
    );
    for (let i = 0; i < 50 && sink.body.frames < 202; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      sink = await sim.api('GET', '/dongles/0/sink');
    }
    expect(sink.body).toMatchObject({ frames: 202, gaps: 1, missing: 5, duplicates: 1 });
  });

  it('injects frames toward the remote, and validates control input', async () => {
    const port = sim.dongles[0]?.port as number;
    const injected = await sim.api('POST', '/dongles/0/frames', {
      frames: [{ id: '0x18daf110', data: 'deadbeef' }],
    });
    expect(injected.status).toBe(200);
    const [frame] = await agent.take(isType('can_frame', port));
    expect(frame?.message.frame).toMatchObject({ id: 0x18daf110, extended: true, flags: 1 });
    expect(Buffer.from(frame?.message.frame.data ?? []).toString('hex')).toBe('deadbeef');

    const bad = await sim.api<{ code: string; details: { fields: Array<{ path: string }> } }>(
      'POST',
      '/dongles/0/traffic',
      {
        rate: 20000,
        ids: [],
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_ERROR');
    expect(bad.body.details.fields.map((f) => f.path).sort()).toEqual(['ids', 'rate']);
    expect((await sim.api('POST', '/dongles/0/cli', 'not json')).status).toBe(400);
    const missing = await sim.api<{ code: string }>('GET', '/dongles/ffffffffffffffff');
    expect(missing).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect((await sim.api('POST', '/dongles/1/traffic', { rate: 10, ids: [1] })).status).toBe(200);
    await sim.api('DELETE', '/dongles/1/traffic');
  });

  it('survives hostile datagrams on every socket', async () => {
    const targets = [
      ...sim.dongles.map((d) => ({ port: d.port, address: '127.0.0.1' })),
      { port: DISCOVERY_PORT, address: '127.255.255.255' },
    ];
    for (let i = 0; i < 3000; i++) {
      const target = targets[i % targets.length] as { port: number; address: string };
      const junk = randomBytes(randomInt(0, 200));
      if (i % 3 === 0) junk.write(i % 2 ? 'REMP' : 'OBD2', 0);
      agent.send(target.port, junk, target.address);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sim.child.exitCode).toBeNull();
    const state = await sim.api<{ counters: { malformed: number } }>('GET', '/dongles/0');
    expect(state.body.counters.malformed).toBeGreaterThan(100);
    const token = await pair(0);
    expect((await cli(0, 'help', token)).result.status).toBe('ok');
  });

  it('closes its sockets and exits 0 on SIGTERM', async () => {
    sim.child.kill('SIGTERM');
    expect(await sim.exited).toBe(0);
  });
});

describe('canopy-dongle-sim --state', () => {
  it('keeps the token across a restart, in a 0600 file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dongle-sim-e2e-'));
    const state = join(dir, 'state.json');
    const args = [
      '--discovery-port',
      String(DISCOVERY_PORT + 1),
      '--remp-port-base',
      '0',
      '--state',
      state,
      '--quiet',
    ];
    const first = await startSim(args);
    const corrId = randomUUID();
    const port = first.dongles[0]?.port as number;
    agent.remp(port, { type: 'pairing', pairing: { action: 'start', corrId, seconds: 0 } }, NO_TOKEN);
    const [ack] = await agent.take(pairingFor(corrId));
    const nonce = ack?.message.pairing.action === 'ack' ? ack.message.pairing.pairingNonce : undefined;
    const { body } = await first.api<{ pairing: { pin: string } }>('GET', '/dongles/0');
    const token = new Uint8Array(randomBytes(32));
    const submit = randomUUID();
    agent.remp(
      port,
      {
        type: 'pairing',
        pairing: {
          action: 'submit',
          corrId: submit,
          seconds: 0,
          pin: body.pairing.pin,
          pairingNonce: nonce as Uint8Array,
          token,
        },
      },
      NO_TOKEN,
    );
    expect((await agent.take(pairingFor(submit)))[0]?.message.pairing).toMatchObject({ status: 'ok' });
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(statSync(state).mode & 0o777).toBe(0o600);

    const second = await startSim(args);
    try {
      expect(second.output.some((l) => l.includes('paired yes'))).toBe(true);
      sim = second; // cli() talks to `sim`
      expect((await cli(0, 'remote status', token)).result.stdout).toContain('paired:        yes');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
