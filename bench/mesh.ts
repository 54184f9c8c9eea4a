// The device mesh (spec 001): token verification in process, and pairing end to end between two real
// canopy-node processes on loopback. `node --import tsx bench/mesh.ts --help`.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { TokenSealer } from '../apps/node/src/mesh/secrets';
import { MeshService } from '../apps/node/src/mesh/service';
import { MeshStore } from '../apps/node/src/mesh/store';
import { generateToken, hashToken, TOKEN_TTL_MS } from '../apps/node/src/mesh/tokens';
import {
  type Child,
  type Cleanup,
  freePort,
  intOption,
  NODE_BIN,
  percentile,
  printMachine,
  runBenchmark,
  sleep,
  spawnNode,
  stopChild,
} from './common';

const HELP = `Usage: node --import tsx bench/mesh.ts [options]   (or: npm run bench:mesh -- [options])

1. Token verification, in this process: MeshService.authenticate (the peer auth middleware without HTTP:
   Bearer header → SHA-256 → issued_tokens by hash in a SQLite file in WAL mode → expiry, revocation,
   renewal and permission rules → last_used_at written at most every 30 s per token), over --tokens issued
   tokens, --verifies times, each timed alone. Goal: p99 ≤ 0.1 ms.
2. Pairing end to end: two built canopy-node processes (\`canopy-node mesh\`, homes of their own, 127.0.0.1),
   --rounds times: "Add a device" on A (POST /api/pairing), then B joins with the link and PIN (POST /api/join:
   certificate fetched and pinned, code + PIN checked, tokens issued both ways, B's first /health call to A
   with its new token). Each round then removes the pairing again (both ways). Goal: join ≤ 1 s.

  --tokens N     issued tokens in the store (default 10000, max 1000000)
  --verifies N   verifications (default 200000, max 10000000)
  --rounds N     pairings (default 30, max 1000)
`;

type Options = { tokens: number; verifies: number; rounds: number };
type Summary = {
  verify_us: { p50: number; p99: number; max: number; mean: number };
  pairing_ms: { offer_p50: number; join_p50: number; join_p95: number; join_max: number; total_p50: number };
  errors: number;
};

const us = (ns: bigint) => Number(ns) / 1000;
const r2 = (n: number) => Math.round(n * 100) / 100;

function verifyBenchmark(o: Options, dir: string) {
  const store = new MeshStore(path.join(dir, 'mesh.db'));
  const now = Date.now();
  const service = new MeshService({
    store,
    sealer: TokenSealer.withKey(randomBytes(32)),
    identity: { id: 'bench-self', name: 'bench', created_at: new Date(now).toISOString() },
    tls: { key: '', cert: '', fingerprint: 'ab'.repeat(32) },
    capabilities: [],
    metadata: {},
    inbox: path.join(dir, 'inbox'),
    maxFileBytes: 1,
    log: pino({ level: 'silent' }),
  });
  const tokens: string[] = [];
  store.db.transaction(() => {
    for (let i = 0; i < o.tokens; i++) {
      const t = generateToken();
      tokens.push(t);
      store.issueToken(`peer-${i}`, hashToken(t), ['node:read', 'files:write'], now, now + TOKEN_TTL_MS);
    }
  })();
  const headers = tokens.map((t) => `Bearer ${t}`);
  for (let i = 0; i < 5000; i++) service.authenticate(headers[i % headers.length], 'node:read');
  const samples = new Float64Array(o.verifies);
  let failures = 0;
  for (let i = 0; i < o.verifies; i++) {
    const h = headers[(i * 7919) % headers.length];
    const t0 = process.hrtime.bigint();
    const r = service.authenticate(h, 'node:read');
    samples[i] = us(process.hrtime.bigint() - t0);
    if (!r.ok) failures++;
  }
  store.close();
  const sorted = Array.from(samples).sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return {
    failures,
    stats: {
      p50: r2(percentile(sorted, 50)),
      p99: r2(percentile(sorted, 99)),
      max: r2(sorted.at(-1) ?? 0),
      mean: r2(mean),
    },
  };
}

async function startMeshNode(
  root: string,
  name: string,
  cleanup: Cleanup,
): Promise<{ ui: string; child: Child }> {
  const home = path.join(root, name);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const [port, uiPort] = [await freePort(), await freePort()];
  writeFileSync(
    path.join(home, 'config.json'),
    JSON.stringify({
      version: 2,
      nodeName: name,
      logLevel: 'warn',
      mesh: { host: '127.0.0.1', port, uiPort, advertiseHost: '127.0.0.1' },
    }),
    { mode: 0o600 },
  );
  const env = {
    ...process.env,
    CANOPY_NODE_HOME: home,
    CANOPY_NODE_CREDENTIAL_STORE: 'file',
    CANOPY_MESH: 'on',
    NO_COLOR: '1',
  };
  const child = spawnNode(['mesh'], env);
  cleanup.push({ what: `stop ${name}`, run: async () => void (await stopChild(child)) });
  for (let i = 0; i < 200 && !child.output.toString().includes('My Devices:'); i++) await sleep(50);
  if (!child.output.toString().includes('My Devices:'))
    throw new Error(`${name} did not start:\n${child.output}`);
  return { ui: `http://127.0.0.1:${uiPort}`, child };
}

async function post(url: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function pairingBenchmark(o: Options, root: string, cleanup: Cleanup) {
  const [a, b] = await Promise.all([
    startMeshNode(root, 'bench-a', cleanup),
    startMeshNode(root, 'bench-b', cleanup),
  ]);
  const offers: number[] = [];
  const joins: number[] = [];
  const totals: number[] = [];
  let errors = 0;
  for (let i = 0; i < o.rounds; i++) {
    try {
      const t0 = performance.now();
      const offer = (await post(`${a.ui}/api/pairing`)) as { url: string; pin: string };
      const t1 = performance.now();
      const joined = await post(`${b.ui}/api/join`, { link: offer.url, pin: offer.pin });
      const t2 = performance.now();
      if (joined.status !== 'AVAILABLE') throw new Error(`joined but ${String(joined.status)}`);
      offers.push(t1 - t0);
      joins.push(t2 - t1);
      totals.push(t2 - t0);
      await post(`${b.ui}/graphql`, {
        query: 'mutation ($id: ID!) { removeDevice(id: $id) }',
        variables: { id: joined.id },
      });
    } catch (err) {
      errors++;
      console.error(`round ${i + 1}: ${(err as Error).message}`);
    }
  }
  const s = (v: number[]) => [...v].sort((x, y) => x - y);
  return {
    errors,
    stats: {
      offer_p50: r2(percentile(s(offers), 50)),
      join_p50: r2(percentile(s(joins), 50)),
      join_p95: r2(percentile(s(joins), 95)),
      join_max: r2(s(joins).at(-1) ?? Number.NaN),
      total_p50: r2(percentile(s(totals), 50)),
    },
  };
}

process.exitCode = await runBenchmark<Options, Summary>({
  name: 'mesh',
  help: HELP,
  parse: (argv) => {
    const { values } = parseArgs({
      args: argv,
      options: {
        tokens: { type: 'string' },
        verifies: { type: 'string' },
        rounds: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help) return undefined;
    return {
      tokens: intOption(values.tokens, 'tokens', 10_000, 1_000_000),
      verifies: intOption(values.verifies, 'verifies', 200_000, 10_000_000),
      rounds: intOption(values.rounds, 'rounds', 30, 1000),
    };
  },
  run: async (o, cleanup) => {
    printMachine();
    console.log(`canopy-node: ${NODE_BIN} (build it first: npm run build -w @canopy/node)`);
    const root = mkdtempSync(path.join(os.tmpdir(), 'canopy-bench-mesh-'));
    cleanup.push({
      what: 'remove the temp dir',
      run: async () => rmSync(root, { recursive: true, force: true }),
    });
    const verify = verifyBenchmark(o, root);
    console.log(
      `token verification (${o.tokens} tokens, ${o.verifies} verifies): p50 ${verify.stats.p50} µs, p99 ${verify.stats.p99} µs, max ${verify.stats.max} µs, mean ${verify.stats.mean} µs (goal p99 ≤ 100 µs)`,
    );
    const pairing = await pairingBenchmark(o, root, cleanup);
    console.log(
      `pairing (${o.rounds} rounds): offer p50 ${pairing.stats.offer_p50} ms; join p50 ${pairing.stats.join_p50} ms, p95 ${pairing.stats.join_p95} ms, max ${pairing.stats.join_max} ms; offer + join p50 ${pairing.stats.total_p50} ms (goal ≤ 1000 ms)`,
    );
    return { verify_us: verify.stats, pairing_ms: pairing.stats, errors: verify.failures + pairing.errors };
  },
  exitCode: (s) => (s.errors > 0 ? 1 : 0),
  report: (s) => console.log(JSON.stringify(s)),
  limitMs: 10 * 60_000,
});
