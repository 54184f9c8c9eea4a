// Hostile bytes against the dongle decoders: `node --import tsx bench/remp-fuzz.ts --help`.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { seeded } from '../apps/node/src/link/testing/seeded';
import {
  type DiscoveryMessage,
  decodeDiscovery,
  decodeRemp,
  encodeDiscovery,
  encodeRemp,
  type RempMessage,
} from '../packages/remp/src';
import { intOption, printMachine, round1, runBenchmark } from './common';

const HELP = `Usage: node --import tsx bench/remp-fuzz.ts [options]   (or: npm run bench:remp-fuzz -- [options])

Feeds both decoders of packages/remp, one after the other, hostile datagrams: the discovery decoder
(decodeDiscovery) and the REMP v1 decoder (decodeRemp). Half of them are random (0–600 random bytes), half
are mutated valid ones (a seed datagram with 1–4 bytes overwritten, 1–8 bytes inserted, one byte removed,
or cut short). The seeds: a DISCOVER, a legacy DISCOVER and an ANNOUNCE; and one REMP datagram of each
type and action (CAN frames, CAN config get/set/response, PAIRING_MODE_START, PAIRING_SUBMIT, ACKs with
and without a nonce, CMD_REQ, CMD_RSP), with tokens. Every outcome must be a value or a typed error; an
exception is a crash. Prints one line per decoder (rate, crashes, outcomes by error code) and a JSON line.
Exits 1 on any crash.

  --count N   datagrams per decoder (default 1000000, max 100000000)
  --seed N    seed of the mutation choices (default: random; printed)
`;

type Options = { count: number; seed: number };

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: { count: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) return undefined;
  return {
    count: intOption(values.count, 'count', 1_000_000, 100_000_000),
    seed:
      values.seed === undefined ? randomBytes(4).readUInt32LE(0) : intOption(values.seed, 'seed', 0, 2 ** 32),
  };
}

const VALID_DISCOVERY: DiscoveryMessage[] = [
  { type: 'discover', seq: 1, legacy: false },
  { type: 'discover', seq: 2, legacy: true },
  {
    type: 'announce',
    seq: 3,
    legacy: false,
    announce: {
      deviceId: '0011223344556677',
      fwBuild: 'fw-2026.11',
      udpPort: 50000,
      capabilities: 7,
      protoVer: 1,
      lanIp: '192.168.1.23',
      pairingState: 1,
      pairingNonce: new Uint8Array(16).fill(9),
    },
  },
];

const TOKEN = Uint8Array.from({ length: 32 }, (_, i) => 0xc0 + i);
const NONCE = new Uint8Array(16).fill(9);
const CORR = '0f8fad5b-d9cb-469f-a165-70867728950e';
const header = (token: Uint8Array, deviceId = '0011223344556677') => ({
  flags: 0,
  fwBuild: 0x2a10,
  deviceId,
  seq: 7,
  timestampUs: 1_700_000_000_000_000n,
  token,
});
const CONFIG = {
  bitrate: 500000,
  samplePointPermille: 875,
  prescaler: 4,
  sjw: 1,
  tseg1: 13,
  tseg2: 2,
  mode: 'normal' as const,
  flags: { useRaw: false, autoRetx: true, txPause: false, protocolExc: false },
};
/** One REMP v1 datagram of each type and action. */
const VALID_REMP: RempMessage[] = [
  {
    ...header(TOKEN),
    type: 'can_frame',
    frame: { id: 0x7df, extended: false, flags: 0, data: Uint8Array.of(2, 1, 0x0c, 0, 0, 0, 0, 0) },
  },
  {
    ...header(TOKEN),
    type: 'can_frame',
    frame: { id: 0x18daf110, extended: true, flags: 3, data: Uint8Array.of(0x41, 0x0c, 0x1a) },
  },
  { ...header(TOKEN), type: 'can_config', config: { action: 'get', status: 'ok', config: CONFIG } },
  { ...header(TOKEN), type: 'can_config', config: { action: 'set', status: 'ok', config: CONFIG } },
  {
    ...header(TOKEN),
    type: 'can_config',
    config: { action: 'response', status: 'apply_failed', config: { ...CONFIG, mode: 'listen_only' } },
  },
  {
    ...header(new Uint8Array(0), '0000000000000000'),
    type: 'pairing',
    pairing: { action: 'start', corrId: CORR, seconds: 120 },
  },
  {
    ...header(new Uint8Array(0)),
    type: 'pairing',
    pairing: { action: 'submit', corrId: CORR, seconds: 0, pin: '123456', pairingNonce: NONCE, token: TOKEN },
  },
  {
    ...header(new Uint8Array(0)),
    type: 'pairing',
    pairing: { action: 'ack', corrId: CORR, status: 'ok', seconds: 180, pairingNonce: NONCE },
  },
  {
    ...header(new Uint8Array(0)),
    type: 'pairing',
    pairing: { action: 'ack', corrId: CORR, status: 'invalid_pin', seconds: 30 },
  },
  {
    ...header(TOKEN),
    type: 'cli',
    cli: { action: 'request', corrId: CORR, allowDangerous: false, command: 'remote status' },
  },
  {
    ...header(TOKEN),
    type: 'cli',
    cli: {
      action: 'response',
      corrId: CORR,
      status: 'ok',
      truncated: false,
      more: true,
      stderr: false,
      chunk: 0,
      exitCode: 0,
      output: new TextEncoder().encode('remote: connected, 3 peers\n'),
    },
  },
];

type Decoder = (
  bytes: Uint8Array,
) => { ok: true; value: { type: string } } | { ok: false; error: { code: string } };

interface DecoderFigures {
  count: number;
  seconds: number;
  per_second: number;
  crashes: number;
  crash_samples: Array<{ input: string; error: string }>;
  outcomes: Record<string, number>;
}

/** Half random datagrams from `pool`, half mutated seeds; the mutation choices come from `seed`. */
function fuzz(
  decode: Decoder,
  seeds: Uint8Array[],
  pool: Uint8Array,
  count: number,
  seed: number,
): DecoderFigures {
  const random = seeded(seed); // the mutations are reproducible from --seed
  const int = (n: number) => Math.floor(random() * n);
  const outcomes = new Map<string, number>();
  const crashes: Array<{ input: string; error: string }> = [];
  let crashCount = 0;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    let input: Uint8Array;
    if (i % 2 === 0) {
      const length = int(601);
      const at = int(pool.length - length);
      input = pool.subarray(at, at + length);
    } else {
      const base = seeds[int(seeds.length)] as Uint8Array;
      const kind = int(4);
      if (kind === 0) {
        input = base.slice();
        for (let k = 1 + int(4); k > 0; k--) input[int(input.length)] = int(256);
      } else if (kind === 1) {
        input = base.subarray(0, int(base.length));
      } else if (kind === 2) {
        const at = int(base.length);
        const from = int(1000);
        const extra = pool.subarray(from, from + 1 + int(8));
        input = new Uint8Array(base.length + extra.length);
        input.set(base.subarray(0, at));
        input.set(extra, at);
        input.set(base.subarray(at), at + extra.length);
      } else {
        const at = int(base.length);
        input = new Uint8Array(base.length - 1);
        input.set(base.subarray(0, at));
        input.set(base.subarray(at + 1), at);
      }
    }
    try {
      const result = decode(input);
      const key = result.ok ? `ok ${result.value.type}` : result.error.code;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    } catch (err) {
      crashCount++;
      if (crashes.length < 5) {
        crashes.push({
          input: Buffer.from(input).toString('hex'),
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    count,
    seconds: round1(seconds),
    per_second: Math.round(count / seconds),
    crashes: crashCount,
    crash_samples: crashes,
    outcomes: Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])),
  };
}

async function run(options: Options) {
  console.log(`REMP fuzz benchmark (bench/remp-fuzz.ts), ${new Date().toISOString()}`);
  printMachine();
  const pool = randomBytes(1 << 20);
  const discovery = fuzz(
    decodeDiscovery,
    VALID_DISCOVERY.map((m) => encodeDiscovery(m)),
    pool,
    options.count,
    options.seed,
  );
  const remp = fuzz(
    decodeRemp,
    VALID_REMP.map((m) => encodeRemp(m)),
    pool,
    options.count,
    options.seed,
  );
  return {
    bench: 'remp-fuzz',
    count_per_decoder: options.count,
    seed: options.seed,
    seconds: round1(discovery.seconds + remp.seconds),
    crashes: discovery.crashes + remp.crashes,
    decoders: { discovery, remp },
  };
}

process.exit(
  await runBenchmark({
    name: 'remp-fuzz',
    help: HELP,
    parse: parseOptions,
    run,
    exitCode: (summary) => (summary.crashes > 0 ? 1 : 0),
    report: (summary) => {
      console.log(
        `datagrams:   ${summary.count_per_decoder} per decoder (half random, half mutated valid ones; seed ${summary.seed})`,
      );
      for (const [name, d] of Object.entries(summary.decoders)) {
        console.log(
          `${`${name}:`.padEnd(12)} ${d.count} datagrams in ${d.seconds} s (${d.per_second}/s): ` +
            `${d.crashes} crashes; outcomes ${Object.entries(d.outcomes)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ')}`,
        );
        for (const crash of d.crash_samples) console.log(`CRASH (${name}): ${crash.error} on ${crash.input}`);
      }
      console.log(JSON.stringify(summary));
    },
  }),
);
