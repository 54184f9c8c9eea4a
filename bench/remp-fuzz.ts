// Hostile bytes against the dongle decoders: `node --import tsx bench/remp-fuzz.ts --help`.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { seeded } from '../apps/node/src/link/testing/seeded';
import { type DiscoveryMessage, decodeDiscovery, encodeDiscovery } from '../packages/remp/src';
import { intOption, printMachine, round1, runBenchmark } from './common';

const HELP = `Usage: node --import tsx bench/remp-fuzz.ts [options]   (or: npm run bench:remp-fuzz -- [options])

Feeds the discovery decoder of packages/remp random datagrams (0–600 random bytes) and mutated valid ones
(a DISCOVER or an ANNOUNCE with 1–4 bytes overwritten, a few bytes inserted or removed, or cut short),
half and half, and counts what it answered: every outcome must be a value or a typed error. An exception
is a crash. Prints the outcomes by error code and the rate. Exits 1 on any crash.

  --count N   datagrams (default 1000000, max 100000000)
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

const VALID: DiscoveryMessage[] = [
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

async function run(options: Options) {
  console.log(`REMP fuzz benchmark (bench/remp-fuzz.ts), ${new Date().toISOString()}`);
  printMachine();
  const random = seeded(options.seed); // the mutations are reproducible from --seed
  const int = (n: number) => Math.floor(random() * n);
  const seeds = VALID.map((m) => encodeDiscovery(m));
  const pool = randomBytes(1 << 20);
  const outcomes = new Map<string, number>();
  const crashes: Array<{ input: string; error: string }> = [];
  let crashCount = 0;
  const started = performance.now();
  for (let i = 0; i < options.count; i++) {
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
      const result = decodeDiscovery(input);
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
    bench: 'remp-fuzz',
    decoder: 'discovery',
    count: options.count,
    seed: options.seed,
    seconds: round1(seconds),
    per_second: Math.round(options.count / seconds),
    crashes: crashCount,
    crash_samples: crashes,
    outcomes: Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])),
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
        `discovery:   ${summary.count} datagrams (half random, half mutated valid ones; seed ${summary.seed}) in ` +
          `${summary.seconds} s (${summary.per_second}/s): ${summary.crashes} crashes`,
      );
      console.log(
        `outcomes:    ${Object.entries(summary.outcomes)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}`,
      );
      for (const crash of summary.crash_samples) console.log(`CRASH: ${crash.error} on ${crash.input}`);
      console.log(JSON.stringify(summary));
    },
  }),
);
