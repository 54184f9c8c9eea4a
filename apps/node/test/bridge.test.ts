import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import os from 'node:os';
import { encodeRemp, type RempMessage } from '@canopy/remp';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimProcess as RunningSim, startSim } from '../../../tools/dongle-sim/test/harness';
import { DiscoverySocket } from '../src/bridge/discovery';
import { chooseInterfaces, interfaceIsUp } from '../src/bridge/interfaces';
import { DongleRegistry, type DongleTarget } from '../src/bridge/registry';
import { REMP_TIMEOUT_MS, RempClient, RempTimeoutError } from '../src/bridge/remp-client';

// canopy-node's discovery socket and REMP client against a real canopy-dongle-sim process, over real UDP on
// loopback (discovery broadcasts to 127.255.255.255 only).

const log = pino({ level: 'silent' });
const json = async (res: Response) =>
  (await res.json()) as Record<string, unknown> & { pairing: { pin: string } };

describe('the bridge against canopy-dongle-sim', () => {
  const discoveryPort = randomInt(40_000, 50_000);
  let sim: RunningSim;
  let remp: RempClient;
  let target: DongleTarget;
  let deviceId: string;
  const token = randomBytes(32);
  const malformed: string[] = [];

  beforeAll(async () => {
    sim = await startSim([
      '--count',
      '1',
      '--discovery-port',
      String(discoveryPort),
      '--remp-port-base',
      '0',
      '--seed',
      randomBytes(4).toString('hex'),
      '--cli-timeout-ms',
      '800',
    ]);
    remp = new RempClient({ log, onMalformed: (code) => malformed.push(code) });
    await remp.open();
  });
  afterAll(async () => {
    remp?.close();
    await sim?.stop();
  });

  const header = (t: Uint8Array = token) => ({ deviceId, token: t });
  const control = (path: string, init?: RequestInit) =>
    fetch(`${sim.control}/dongles/${deviceId}${path}`, init);

  it('finds the dongle by broadcast on lo and knows where to send REMP', async () => {
    const registry = new DongleRegistry();
    const discovery = new DiscoverySocket({
      port: discoveryPort,
      log,
      debug: false,
      onHeard: (h) => registry.hear(h, Date.now()),
      onMalformed: (code) => malformed.push(code),
    });
    await discovery.open();
    try {
      const { eligible } = chooseInterfaces(os.networkInterfaces(), { allow: ['lo'], isUp: interfaceIsUp });
      expect(eligible.map((i) => i.broadcast)).toEqual(['127.255.255.255']);
      registry.beginScan();
      await discovery.scan(eligible, 500);
      registry.endScan(Date.now());
    } finally {
      discovery.close();
    }
    const [seen] = registry.snapshot();
    expect(seen).toMatchObject({ device_id: sim.dongles[0]?.deviceId, lan_ip: '127.0.0.1', online: true });
    deviceId = seen?.device_id as string;
    target = registry.target(deviceId) as DongleTarget;
    expect(target).toEqual({ address: '127.0.0.1', port: sim.dongles[0]?.port });
  });

  it('pairs: PAIRING_MODE_START answers with the nonce; the PIN from the dongle’s console pairs it', async () => {
    const startCorr = randomUUID();
    const started = await remp.request(
      target,
      remp.message(header(new Uint8Array(0)), {
        type: 'pairing',
        pairing: { action: 'start', corrId: startCorr, seconds: 0 },
      }),
    );
    if (started.type !== 'pairing' || started.pairing.action !== 'ack') throw new Error('not a pairing ACK');
    expect(started.pairing).toMatchObject({ corrId: startCorr, status: 'ok' });
    expect(started.pairing.seconds).toBeGreaterThan(100);
    const nonce = started.pairing.pairingNonce as Uint8Array;
    expect(nonce).toHaveLength(16);
    const { pin } = (await json(await control(''))).pairing;
    expect(pin).toMatch(/^\d{6}$/);
    const submitted = await remp.request(
      target,
      remp.message(header(new Uint8Array(0)), {
        type: 'pairing',
        pairing: { action: 'submit', corrId: randomUUID(), seconds: 0, pin, pairingNonce: nonce, token },
      }),
    );
    expect(
      submitted.type === 'pairing' && submitted.pairing.action === 'ack' && submitted.pairing.status,
    ).toBe('ok');
  });

  it('runs an allowlisted command with the token, and is refused without it', async () => {
    const help = await remp.command(target, header(), randomUUID(), 'help');
    expect(help).toMatchObject({ status: 'ok', authRejected: false });
    expect(help.stdout).toContain('remote status');
    const refused = await remp.command(target, header(randomBytes(32)), randomUUID(), 'help');
    expect(refused).toMatchObject({ status: 'denied', authRejected: true });
    await expect(remp.command(target, header(), randomUUID(), 'reboot')).rejects.toThrow(
      /not a command dongles accept/,
    );
  });

  it('puts a long, chunked answer back together in order', async () => {
    expect(
      (await control('/cli', { method: 'POST', body: JSON.stringify({ pad_bytes: 20_000 }) })).status,
    ).toBe(200);
    const stats = await remp.command(target, header(), randomUUID(), 'remote stats');
    expect(stats.status).toBe('ok');
    expect(Buffer.byteLength(stats.stdout)).toBeGreaterThan(20_000);
    // The padding lines are numbered: in order, none missing.
    const numbers = [...stats.stdout.matchAll(/^pad (\d+)/gm)].map((m) => Number(m[1]));
    expect(numbers.length).toBeGreaterThan(10);
    expect(numbers).toEqual(numbers.map((_, i) => (numbers[0] as number) + i));
  });

  it('hears the dongle’s own timeout answer, and gives up itself when nothing answers', async () => {
    await control('/cli', { method: 'POST', body: JSON.stringify({ delay_ms: 1500, pad_bytes: 0 }) });
    const slow = await remp.command(target, header(), randomUUID(), 'time status');
    expect(slow.status).toBe('timeout');
    await control('/cli', { method: 'POST', body: JSON.stringify({ delay_ms: 0 }) });
    expect(REMP_TIMEOUT_MS).toBe(5000);
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    const nowhere = { address: '127.0.0.1', port: silent.address().port };
    const began = Date.now();
    await expect(remp.command(nowhere, header(), randomUUID(), 'help', 300)).rejects.toBeInstanceOf(
      RempTimeoutError,
    );
    expect(Date.now() - began).toBeGreaterThanOrEqual(290);
    silent.close();
  });

  it('matches a CAN config answer by type and device_id', async () => {
    const answer = await remp.request(
      target,
      remp.message(header(), {
        type: 'can_config',
        config: {
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
        },
      }),
    );
    expect(answer.type === 'can_config' && answer.config.action).toBe('response');
    expect(answer.deviceId).toBe(deviceId);
  });

  it('ignores an answer with the right corr_id from another address', async () => {
    const corrId = randomUUID();
    const spoofer = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => spoofer.bind(0, '127.0.0.2', () => resolve()));
    const fake: RempMessage = {
      flags: 0,
      fwBuild: 1,
      deviceId,
      seq: 1,
      timestampUs: 0n,
      token: new Uint8Array(0),
      type: 'cli',
      cli: {
        action: 'response',
        corrId,
        status: 'ok',
        truncated: false,
        more: false,
        stderr: false,
        chunk: 0,
        exitCode: 0,
        output: Buffer.from('forged'),
      },
    };
    const pending = remp.command(target, header(), corrId, 'time status');
    spoofer.send(encodeRemp(fake), remp.port as number, '127.0.0.1');
    const result = await pending;
    spoofer.close();
    expect(result.stdout).not.toContain('forged');
    expect(result.status).toBe('ok');
  });
});
