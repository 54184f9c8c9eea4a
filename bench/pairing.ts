// Pairing latency through a real node and the simulator: `node --import tsx bench/pairing.ts --help`.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startSim } from '../tools/dongle-sim/test/harness';
import {
  assertBuilt,
  type Cleanup,
  cloudEnv,
  createPostgresDatabase,
  DashboardClient,
  freePort,
  intOption,
  percentile,
  printMachine,
  round1,
  runBenchmark,
  sleep,
  spawnNode,
  spawnServer,
  stopChild,
  stopServer,
  waitHealthy,
} from './common';

const HELP = `Usage: node --import tsx bench/pairing.ts [options]   (or: npm run bench:pairing -- [options])

Times pairing end to end on loopback, the way the dashboard does it: POST /dongles/:id/pairing-mode (cloud →
WebSocket → canopy-node → REMP PAIRING_MODE_START → canopy-dongle-sim → back), the PIN read from the
simulator's control interface (where a person reads the dongle's display), POST /dongles/:id/pairing-submit
(→ PAIRING_SUBMIT → the dongle's OK → the dongle claimed, its token sealed and stored). Each round pairs one
dongle and unpairs it again. Prints the start, submit and start → claimed times (p50, p95, max); the goal is
start → claimed ≤ 1 s at p95. Built programs only (npm run build). Discovery runs on loopback only.

  --rounds N              pairings (default 50, max 1000)
  --dongles N             simulated dongles, used in turn (default 5, max 64)
  --backend embedded|postgres   the cloud's database (default embedded: PGlite + in-process engine)
`;

type Options = { rounds: number; dongles: number; backend: 'embedded' | 'postgres' };

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string' },
      dongles: { type: 'string' },
      backend: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const backend = values.backend ?? 'embedded';
  if (backend !== 'embedded' && backend !== 'postgres') throw new Error('--backend is embedded or postgres');
  return {
    rounds: intOption(values.rounds, 'rounds', 50, 1000),
    dongles: intOption(values.dongles, 'dongles', 5, 64),
    backend,
  };
}

async function run(options: Options, cleanup: Cleanup) {
  console.log(`pairing benchmark (bench/pairing.ts), ${new Date().toISOString()}`);
  printMachine();
  assertBuilt();
  const root = await mkdtemp(path.join(os.tmpdir(), 'canopy-bench-pairing-'));
  cleanup.push({ what: `remove ${root}`, run: () => rm(root, { recursive: true, force: true }) });
  const port = await freePort();
  const env: Record<string, string> = {
    CANOPY_DATA_DIR: path.join(root, 'cloud'),
    PORT: String(port),
    LOG_LEVEL: 'warn',
  };
  env.PUBLIC_URL = `http://127.0.0.1:${port}`;
  if (options.backend === 'postgres') {
    const database = await createPostgresDatabase(cleanup);
    env.DATABASE_URL = database.url;
    env.REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
    env.REDIS_KEY_PREFIX = `canopy-bench-pairing-${randomBytes(4).toString('hex')}:`;
  }
  const server = spawnServer({ env: cloudEnv(env), port });
  cleanup.push({ what: 'stop the cloud', run: async () => void (await stopServer(server)) });
  await waitHealthy(server);

  const owner = new DashboardClient(server.url);
  const signup = await owner.request('POST', '/api/v1/auth/signup', {
    email: 'bench@example.com',
    password: 'correct horse battery',
  });
  if (signup.status !== 201 && signup.status !== 200) throw new Error(`signup answered ${signup.status}`);
  const key = await owner.request('POST', '/api/v1/agents/enrollment-keys', { label: 'bench pairing' });
  const secret = (key.json as { secret?: string }).secret;
  if (!secret) throw new Error(`POST /agents/enrollment-keys answered ${key.status}`);

  const discoveryPort = randomInt(40_000, 50_000);
  const { CANOPY_NODE_HOME: _h, DBUS_SESSION_BUS_ADDRESS: _d, ...inherited } = process.env;
  const nodeEnv: NodeJS.ProcessEnv = {
    ...inherited,
    CANOPY_NODE_HOME: path.join(root, 'node-home'),
    HOME: path.join(root, 'user-home'),
    CANOPY_NODE_CREDENTIAL_STORE: 'file',
    NO_COLOR: '1',
    // Loopback only: a broadcast on this machine's real interface would leave the machine.
    CANOPY_DISCOVERY: 'on',
    CANOPY_DISCOVERY_INTERFACES: 'lo',
    CANOPY_DISCOVERY_PORT: String(discoveryPort),
  };
  const setup = spawnNode(['setup', '-', '--cloud', server.url], nodeEnv, `${secret}\n`);
  if ((await setup.exited) !== 0) throw new Error(`canopy-node setup failed:\n${setup.output}`);
  const configFile = path.join(root, 'node-home', 'config.json');
  const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
  config.healthPort = 0;
  await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  const daemon = spawnNode(['daemon'], nodeEnv);
  cleanup.push({
    what: 'stop the canopy-node daemon',
    run: async () => void (await stopChild(daemon)),
  });

  const sim = await startSim([
    '--count',
    String(options.dongles),
    '--discovery-port',
    String(discoveryPort),
    '--remp-port-base',
    '0',
    '--quiet',
    '--seed',
    randomBytes(4).toString('hex'),
  ]);
  cleanup.push({ what: 'stop the simulator', run: async () => void (await sim.stop()) });

  // Wait until the cloud lists every simulated dongle online (the node scans fast while asked to).
  const ids = new Map<string, string>();
  const deadline = Date.now() + 30_000;
  while (ids.size < options.dongles) {
    if (Date.now() > deadline)
      throw new Error(`only ${ids.size} of ${options.dongles} dongles showed in 30 s`);
    await owner.request('POST', '/api/v1/dongles/scan');
    const list = (await owner.request('GET', '/api/v1/dongles')).json as {
      dongles: Array<{ id: string; device_id: string; online: boolean }>;
    };
    for (const d of list.dongles) if (d.online) ids.set(d.device_id, d.id);
    await sleep(500);
  }
  console.log(`${options.dongles} dongles listed; ${options.rounds} pairings …`);

  const startMs: number[] = [];
  const submitMs: number[] = [];
  const totalMs: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const dongle = sim.dongles[round % sim.dongles.length];
    const id = ids.get(dongle?.deviceId ?? '') as string;
    const t0 = performance.now();
    const started = await owner.request('POST', `/api/v1/dongles/${id}/pairing-mode`, { action: 'start' });
    const t1 = performance.now();
    if (started.status !== 200)
      throw new Error(`pairing-mode answered ${started.status}: ${JSON.stringify(started.json)}`);
    const session = (started.json as { pairing_session_id: string }).pairing_session_id;
    const pin = ((await sim.api('GET', `/dongles/${dongle?.deviceId}`)).body as { pairing: { pin: string } })
      .pairing.pin;
    const t2 = performance.now();
    const paired = await owner.request('POST', `/api/v1/dongles/${id}/pairing-submit`, {
      pairing_session_id: session,
      pin,
    });
    const t3 = performance.now();
    if (paired.status !== 200)
      throw new Error(`pairing-submit answered ${paired.status}: ${JSON.stringify(paired.json)}`);
    startMs.push(t1 - t0);
    submitMs.push(t3 - t2);
    totalMs.push(t3 - t0 - (t2 - t1)); // without the time the benchmark spends reading the PIN
    const unpaired = await owner.request('POST', `/api/v1/dongles/${id}/unpair`);
    if (unpaired.status !== 204) throw new Error(`unpair answered ${unpaired.status}`);
  }
  const stats = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return {
      p50: round1(percentile(sorted, 50)),
      p95: round1(percentile(sorted, 95)),
      max: round1(sorted.at(-1) ?? 0),
    };
  };
  return {
    bench: 'pairing',
    backend: options.backend,
    rounds: options.rounds,
    dongles: options.dongles,
    start_ms: stats(startMs),
    submit_ms: stats(submitMs),
    start_to_claimed_ms: stats(totalMs),
    goal_met: stats(totalMs).p95 <= 1000,
  };
}

process.exit(
  await runBenchmark({
    name: 'pairing',
    help: HELP,
    parse: parseOptions,
    run: (options, cleanup) => run(options, cleanup),
    exitCode: () => 0,
    limitMs: 10 * 60_000,
    report: (s) => {
      const line = (name: string, v: { p50: number; p95: number; max: number }) =>
        console.log(`${name.padEnd(20)} p50 ${v.p50} ms, p95 ${v.p95} ms, max ${v.max} ms`);
      line('pairing-mode start', s.start_ms);
      line('pairing-submit', s.submit_ms);
      line('start → claimed', s.start_to_claimed_ms);
      console.log(`goal (start → claimed ≤ 1 s at p95): ${s.goal_met ? 'met' : 'NOT met'}`);
      console.log(JSON.stringify(s));
    },
  }),
);
