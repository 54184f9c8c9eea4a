import { randomBytes } from 'node:crypto';
import {
  type CanConfig,
  CliAssembler,
  type CliMessage,
  decodeDiscovery,
  decodeRemp,
  encodeDiscovery,
  encodeRemp,
  FLAG_AUTH_REJECTED,
  type RempBody,
  type RempMessage,
  UNKNOWN_DEVICE_ID,
} from '@canopy/remp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CAN_CONFIG } from './can-config';
import { Dongle, type Peer } from './dongle';
import { memoryLog } from './log';

const AGENT: Peer = { address: '127.0.0.1', port: 40001 };
const STRANGER: Peer = { address: '127.0.0.9', port: 40002 };
const TOKEN = new Uint8Array(32).fill(0x5a);
const NONCE = new Uint8Array(16).fill(0x11);
const CORR = '00000000-0000-4000-8000-000000000001';

function setup() {
  let now = 1_700_000_000_000;
  const sent: Array<{ to: Peer; bytes: Uint8Array }> = [];
  const log = memoryLog();
  const persist = vi.fn();
  const dongle = new Dongle(
    { index: 0, deviceId: '0011223344556677', fwBuild: 'sim-test', fwBuildNumber: 77, lanIp: '127.0.0.1' },
    {},
    {
      clock: () => now,
      log,
      send: (bytes, to) => sent.push({ bytes, to }),
      persist,
      discovery: () => ({ listening: ['127.255.255.255:50000'], answered: 0, lastRequesters: [] }),
      pairingMs: 120_000,
      cooldownMs: 300_000,
      cliTimeoutMs: 5000,
      newPin: () => '246810',
      newNonce: () => NONCE,
    },
  );
  dongle.port = 51000;
  let seq = 0;
  const send = (body: RempBody, token: Uint8Array = TOKEN, from: Peer = AGENT) =>
    dongle.receive(
      encodeRemp({
        flags: 0,
        fwBuild: 0,
        deviceId: UNKNOWN_DEVICE_ID,
        seq: seq++,
        timestampUs: 0n,
        token,
        ...body,
      } as RempMessage),
      from,
    );
  /** The replies sent since the last call, decoded. */
  const replies = () =>
    sent.splice(0).map(({ bytes, to }) => {
      const d = decodeRemp(bytes);
      if (!d.ok) throw new Error(`the dongle sent a bad datagram: ${d.error.message}`);
      return { ...d.value, to };
    });
  const pair = () => {
    send({ type: 'pairing', pairing: { action: 'start', corrId: CORR, seconds: 0 } }, new Uint8Array(0));
    send(
      {
        type: 'pairing',
        pairing: {
          action: 'submit',
          corrId: CORR,
          seconds: 0,
          pin: '246810',
          pairingNonce: NONCE,
          token: TOKEN,
        },
      },
      new Uint8Array(0),
    );
    replies();
  };
  const cli = (command: string, token: Uint8Array = TOKEN) =>
    send({ type: 'cli', cli: { action: 'request', corrId: CORR, allowDangerous: false, command } }, token);
  return { dongle, send, replies, pair, cli, log, persist, sent, advance: (ms: number) => (now += ms) };
}

const cliOf = (m: RempMessage) => {
  if (m.type !== 'cli' || m.cli.action !== 'response') throw new Error(`not a CLI response: ${m.type}`);
  return m.cli;
};
const assemble = (messages: RempMessage[]) => {
  const assembler = new CliAssembler();
  let result: ReturnType<CliAssembler['add']>;
  for (const m of messages) result = assembler.add(cliOf(m) as Extract<CliMessage, { action: 'response' }>);
  return result;
};

afterEach(() => {
  vi.useRealTimers();
});

describe('Dongle pairing over REMP', () => {
  it('starts pairing mode on PAIRING_MODE_START and ACKs ok with the seconds left and the nonce', () => {
    const { send, replies, log } = setup();
    send({ type: 'pairing', pairing: { action: 'start', corrId: CORR, seconds: 0 } }, new Uint8Array(0));
    const [ack] = replies();
    expect(ack).toMatchObject({
      type: 'pairing',
      flags: 0,
      deviceId: '0011223344556677',
      fwBuild: 77,
      token: new Uint8Array(0),
      to: AGENT,
      pairing: { action: 'ack', corrId: CORR, status: 'ok', seconds: 120, pairingNonce: NONCE },
    });
    expect(log.lines.some((l) => l.includes('PAIRING MODE — PIN 246810 (120 s)'))).toBe(true);
  });

  it('stores the token of a right PIN and then answers authenticated requests', () => {
    const { dongle, send, replies, cli, persist } = setup();
    send({ type: 'pairing', pairing: { action: 'start', corrId: CORR, seconds: 0 } }, new Uint8Array(0));
    send(
      {
        type: 'pairing',
        pairing: {
          action: 'submit',
          corrId: CORR,
          seconds: 0,
          pin: '000000',
          pairingNonce: NONCE,
          token: TOKEN,
        },
      },
      new Uint8Array(0),
    );
    send(
      {
        type: 'pairing',
        pairing: {
          action: 'submit',
          corrId: CORR,
          seconds: 0,
          pin: '246810',
          pairingNonce: NONCE,
          token: TOKEN,
        },
      },
      new Uint8Array(0),
    );
    expect(replies().map((r) => (r.type === 'pairing' ? r.pairing : undefined))).toMatchObject([
      { status: 'ok' },
      { status: 'invalid_pin', seconds: 120 },
      { status: 'ok', seconds: 0 },
    ]);
    expect(dongle.paired).toBe(true);
    expect(persist).toHaveBeenCalled();
    expect(dongle.remote).toEqual(AGENT);
    cli('help');
    const [help] = replies();
    expect(help?.flags).toBe(0);
    expect(cliOf(help as RempMessage)).toMatchObject({ status: 'ok', exitCode: 0, more: false });
  });

  it('refuses a submit with an empty token or outside pairing mode', () => {
    const { send, replies } = setup();
    const submit = (token: Uint8Array) =>
      send(
        {
          type: 'pairing',
          pairing: { action: 'submit', corrId: CORR, seconds: 0, pin: '246810', pairingNonce: NONCE, token },
        },
        new Uint8Array(0),
      );
    submit(TOKEN);
    send({ type: 'pairing', pairing: { action: 'start', corrId: CORR, seconds: 0 } }, new Uint8Array(0));
    submit(new Uint8Array(0));
    expect(
      replies().map((r) =>
        r.type === 'pairing' && r.pairing.action === 'ack' ? r.pairing.status : undefined,
      ),
    ).toEqual(['error', 'ok', 'error']);
  });

  it('forgets the token on a factory reset, with a new secret', () => {
    const { dongle, pair, cli, replies } = setup();
    pair();
    const before = dongle.secretFingerprint();
    dongle.factoryReset();
    expect(dongle.paired).toBe(false);
    expect(dongle.remote).toBeUndefined();
    expect(dongle.secretFingerprint()).not.toBe(before);
    cli('help');
    expect(replies()[0]?.flags).toBe(FLAG_AUTH_REJECTED);
  });
});

describe('Dongle token check', () => {
  it('announces the LAN address with the most rejected tokens in the last minute', () => {
    const { dongle, pair, cli, advance } = setup();
    pair();
    expect(dongle.announce().authFailures).toBeUndefined();
    const wrong = new Uint8Array(32).fill(0x11);
    for (let i = 0; i < 3; i++) cli('help', wrong);
    advance(30_000);
    for (let i = 0; i < 21; i++) {
      dongle.receive(
        encodeRemp({
          type: 'cli',
          flags: 0,
          fwBuild: 0,
          deviceId: UNKNOWN_DEVICE_ID,
          seq: i,
          timestampUs: 0n,
          token: wrong,
          cli: { action: 'request', corrId: CORR, allowDangerous: false, command: 'help' },
        }),
        STRANGER,
      );
    }
    cli('help'); // the right token is not a failure
    expect(dongle.announce().authFailures).toEqual({ ip: '127.0.0.9', count: 21 });
    advance(30_001); // the agent's three are older than a minute; the stranger's are not
    expect(dongle.announce().authFailures).toEqual({ ip: '127.0.0.9', count: 21 });
    advance(30_000);
    expect(dongle.announce().authFailures).toBeUndefined();
  });

  it('rejects every non-pairing message of an unpaired dongle', () => {
    const { dongle, cli, replies } = setup();
    cli('help');
    const [denied] = replies();
    expect(denied?.flags).toBe(FLAG_AUTH_REJECTED);
    expect(assemble([denied as RempMessage])).toMatchObject({
      status: 'denied',
      exitCode: 126,
      stderr: 'token rejected\n',
    });
    expect(dongle.counters.auth_failures).toBe(1);
  });

  it('denies a wrong token with the flag, answers CAN config with the current one, drops CAN frames', () => {
    const { dongle, pair, cli, send, replies, log } = setup();
    pair();
    const wrong = new Uint8Array(32).fill(0x5b);
    cli('help', wrong);
    send(
      { type: 'can_config', config: { action: 'get', status: 'ok', config: DEFAULT_CAN_CONFIG } },
      wrong,
      STRANGER,
    );
    send(
      { type: 'can_frame', frame: { id: 0x7df, extended: false, flags: 0, data: Uint8Array.of(2, 1, 0x0c) } },
      wrong,
    );
    send(
      { type: 'can_frame', frame: { id: 0x7df, extended: false, flags: 0, data: Uint8Array.of(2, 1, 0x0c) } },
      TOKEN.slice(0, 31),
    );
    const out = replies();
    expect(out).toHaveLength(2);
    expect(out.every((r) => r.flags === FLAG_AUTH_REJECTED)).toBe(true);
    expect(out[1]).toMatchObject({
      to: STRANGER,
      config: { action: 'response', status: 'invalid', config: DEFAULT_CAN_CONFIG },
    });
    expect(dongle.counters.auth_failures).toBe(4);
    expect(dongle.remote).toEqual(AGENT);
    expect(log.lines.some((l) => l.includes('token rejected') && l.includes('127.0.0.9:40002'))).toBe(true);
    expect(log.lines.join('\n')).not.toContain('5b5b5b');
  });
});

describe('Dongle CAN config', () => {
  const set = (config: CanConfig) =>
    ({ type: 'can_config', config: { action: 'set', status: 'ok', config } }) as const;

  it('gets, sets a valid one (effective timing), refuses an invalid one and fails when told to', () => {
    const { dongle, pair, send, replies } = setup();
    pair();
    send({ type: 'can_config', config: { action: 'get', status: 'ok', config: DEFAULT_CAN_CONFIG } });
    send(set({ ...DEFAULT_CAN_CONFIG, bitrate: 250000, prescaler: 0 }));
    send(set({ ...DEFAULT_CAN_CONFIG, bitrate: 123 }));
    dongle.knobs.failNextApply = true;
    send(set({ ...DEFAULT_CAN_CONFIG, bitrate: 1000000 }));
    const out = replies().map((r) => (r.type === 'can_config' ? r.config : undefined));
    expect(out[0]).toEqual({ action: 'response', status: 'ok', config: DEFAULT_CAN_CONFIG });
    expect(out[1]).toMatchObject({
      status: 'ok',
      config: { bitrate: 250000, prescaler: 20, tseg1: 13, tseg2: 2 },
    });
    expect(out[2]).toMatchObject({ status: 'invalid', config: { bitrate: 250000 } });
    expect(out[3]).toMatchObject({ status: 'apply_failed', config: { bitrate: 250000 } });
    expect(dongle.canConfig.bitrate).toBe(250000);
    expect(dongle.knobs.failNextApply).toBe(false);
  });
});

describe('Dongle CAN bus', () => {
  const obd = (id: number, ...bytes: number[]) =>
    ({ type: 'can_frame', frame: { id, extended: false, flags: 0, data: Uint8Array.from(bytes) } }) as const;

  it('answers an OBD-II RPM request from 0x7E8, flagged simulated, to the remote', () => {
    const { pair, send, replies, dongle } = setup();
    pair();
    send(obd(0x7df, 0x02, 0x01, 0x0c, 0, 0, 0, 0, 0));
    const [answer] = replies();
    expect(answer).toMatchObject({
      type: 'can_frame',
      to: AGENT,
      frame: { id: 0x7e8, extended: false, flags: 1 },
    });
    const data = answer?.type === 'can_frame' ? answer.frame.data : new Uint8Array(0);
    expect(Array.from(data.subarray(0, 3))).toEqual([0x04, 0x41, 0x0c]);
    expect(((data[3] as number) * 256 + (data[4] as number)) / 4).toBe(800); // idle at t = 0
    expect(dongle.bus.sink.report().frames).toBe(1);
    expect(dongle.counters).toMatchObject({ frames_from_remote: 1, frames_to_remote: 1 });
  });

  it('transmits nothing in listen-only mode and loops frames back in loopback mode', () => {
    const { dongle, pair, send, replies } = setup();
    pair();
    const mode = (m: CanConfig['mode']) =>
      send({
        type: 'can_config',
        config: { action: 'set', status: 'ok', config: { ...DEFAULT_CAN_CONFIG, mode: m } },
      });
    mode('listen_only');
    send(obd(0x7df, 0x02, 0x01, 0x0c));
    mode('loopback');
    send(obd(0x7df, 0x02, 0x01, 0x0c));
    const frames = replies().filter((r) => r.type === 'can_frame');
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ frame: { id: 0x7df, flags: 0x03 } });
    expect(dongle.bus.sink.report().frames).toBe(0);
    expect(dongle.counters.frames_not_sent).toBe(2);
  });

  it('sends nothing anywhere before a remote is known', () => {
    const { dongle, sent } = setup();
    dongle.bus.put({ id: 0x123, extended: false, data: Uint8Array.of(1) });
    expect(sent).toHaveLength(0);
    expect(dongle.counters.frames_no_remote).toBe(1);
  });
});

describe('Dongle CLI', () => {
  it('denies a command off the allowlist, without the auth flag', () => {
    const { pair, cli, replies } = setup();
    pair();
    cli('reboot');
    const out = replies();
    expect(out[0]?.flags).toBe(0);
    expect(assemble(out)).toMatchObject({
      status: 'denied',
      exitCode: 126,
      stderr: expect.stringContaining('not an allowed command'),
    });
  });

  it('splits long padded output into ordered chunks, cut at 64 KB', () => {
    const { dongle, pair, cli, replies } = setup();
    pair();
    dongle.knobs.padBytes = 10_000;
    cli('time status');
    const long = replies();
    expect(long.length).toBeGreaterThan(9);
    const result = assemble(long);
    expect(result?.stdout).toMatch(/^utc: /);
    expect(result?.stdout).toContain('pad 000001 ');
    expect(result?.truncated).toBe(false);
    expect(dongle.knobs.padBytes).toBe(0);
    dongle.knobs.padBytes = 100_000;
    cli('help');
    const capped = assemble(replies());
    expect(capped?.truncated).toBe(true);
    expect(Buffer.byteLength(capped?.stdout ?? '')).toBe(64 * 1024);
  });

  it('answers after the delay, or timeout at the CLI timeout', () => {
    vi.useFakeTimers();
    const { dongle, pair, cli, replies } = setup();
    pair();
    dongle.knobs.cliDelayMs = 1000;
    cli('remote status');
    expect(replies()).toHaveLength(0);
    vi.advanceTimersByTime(1000);
    expect(assemble(replies())).toMatchObject({
      status: 'ok',
      stdout: expect.stringContaining('paired:        yes'),
    });
    dongle.knobs.cliDelayMs = 6000;
    cli('remote status');
    vi.advanceTimersByTime(4999);
    expect(replies()).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(assemble(replies())).toMatchObject({ status: 'timeout', exitCode: 124 });
  });
});

describe('Dongle robustness and discovery', () => {
  it('counts malformed datagrams and never throws on random bytes', () => {
    const { dongle, sent } = setup();
    for (let i = 0; i < 2000; i++) dongle.receive(randomBytes(i % 80), STRANGER);
    const header = encodeRemp({
      flags: 0,
      fwBuild: 0,
      deviceId: UNKNOWN_DEVICE_ID,
      seq: 0,
      timestampUs: 0n,
      token: new Uint8Array(0),
      type: 'cli',
      cli: { action: 'request', corrId: CORR, allowDangerous: false, command: 'help' },
    });
    for (let i = 0; i < 2000; i++) {
      const bytes = header.slice();
      bytes[5 + (i % 40)] = i & 0xff;
      dongle.receive(bytes.subarray(0, 20 + (i % 60)), STRANGER);
    }
    expect(dongle.counters.malformed).toBeGreaterThan(1000);
    expect(sent.every(({ to }) => to === STRANGER)).toBe(true);
  });

  it('answers a DISCOVER sent to its own port with its ANNOUNCE, nonce included in pairing mode', () => {
    const { dongle, sent } = setup();
    dongle.pressPairingButton();
    dongle.receive(encodeDiscovery({ type: 'discover', seq: 9, legacy: false }), AGENT);
    const announce = decodeDiscovery(sent[0]?.bytes ?? new Uint8Array(0));
    expect(announce).toMatchObject({
      ok: true,
      value: {
        type: 'announce',
        seq: 9,
        announce: {
          deviceId: '0011223344556677',
          udpPort: 51000,
          protoVer: 1,
          pairingState: 1,
          pairingNonce: NONCE,
        },
      },
    });
  });
});
