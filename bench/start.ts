// Cold start of canopy-cloud on PGlite to the first 200 on /healthz.
// Usage: `node --import tsx bench/start.ts --help`.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  assertBuilt,
  type Cleanup,
  cloudEnv,
  fmt,
  freePort,
  intOption,
  median,
  printMachine,
  REPO_ROOT,
  round1,
  runBenchmark,
  type Server,
  type Stopped,
  spawnServer,
  stopServer,
  waitHealthy,
} from './common';

const HELP = `Usage: node --import tsx bench/start.ts [options]   (or: npm run bench:start -- [options])

Times \`node apps/cloud/bin/canopy-cloud.js serve\` (what \`npm start\` runs once installed and built) from
spawn to the first 200 on GET /healthz (polled every 20 ms), on the embedded database (PGlite):
  first start  a fresh, empty CANOPY_DATA_DIR (the migrations run)
  restart      the same data dir again, once the first server has stopped
Each server is stopped with SIGTERM and waited for before the next one starts.

  --runs R         first starts and restarts to time (default 5, max 50)
  --timeout S      give up on a start after S seconds (default 120, max 600)
  --npm-start      also time the full \`npm start\` once (fresh data dir; npm runs with --offline)
`;

const POLL_MS = 20;

type Options = { runs: number; timeoutMs: number; npmStart: boolean };

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      runs: { type: 'string' },
      timeout: { type: 'string' },
      'npm-start': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  return {
    runs: intOption(values.runs, 'runs', 5, 50),
    timeoutMs: intOption(values.timeout, 'timeout', 120, 600) * 1000,
    npmStart: values['npm-start'] ?? false,
  };
}

type Timed = { ms: number; stopped: Stopped; database: string; engine: string; output: string };

/** Spawns the command, waits for /healthz 200, stops it; `ms` is spawn → first 200. */
async function timeStart(
  dataDir: string,
  options: Options,
  register: (server: Server, group: boolean) => void,
  command?: { command: string; args: string[]; extraEnv: Record<string, string> },
): Promise<Timed> {
  const port = await freePort();
  const group = command !== undefined;
  const env = cloudEnv({ PORT: String(port), CANOPY_DATA_DIR: dataDir, ...command?.extraEnv });
  const started = performance.now();
  const server = spawnServer({ command: command?.command, args: command?.args, env, port, group });
  register(server, group);
  const health = await waitHealthy(server, { intervalMs: POLL_MS, timeoutMs: options.timeoutMs });
  const ms = performance.now() - started;
  const stopped = await stopServer(server, { group });
  if (!cleanStop(stopped, group)) {
    console.log(
      `  WARNING: the server did not stop cleanly after SIGTERM (code ${stopped.code}, signal ` +
        `${stopped.signal}, SIGKILL needed: ${stopped.killed}). Its last output:\n${server.output}`,
    );
  }
  return {
    ms,
    stopped,
    database: health.checks.database.kind,
    engine: health.checks.stream_engine.kind,
    output: server.output.toString(),
  };
}

/** npm itself dies of the SIGTERM sent to its group; what matters there is that the whole group is gone. */
function cleanStop(stopped: Stopped, group: boolean): boolean {
  if (stopped.killed || stopped.alreadyExited) return false;
  return stopped.code === 0 || (group && stopped.signal === 'SIGTERM');
}

const stats = (values: number[]) => ({
  min: round1(Math.min(...values)),
  median: round1(median(values)),
  max: round1(Math.max(...values)),
});

async function run(options: Options, cleanup: Cleanup, stop: AbortSignal) {
  assertBuilt();
  const date = new Date().toISOString();
  console.log(`Canopy start benchmark (bench/start.ts), ${date}`);
  const m = printMachine();
  console.log(
    'measures:    `node apps/cloud/bin/canopy-cloud.js serve`, i.e. the part of `npm start` that runs\n' +
      '             after install/build; spawn to first 200 on GET /healthz (polled every 20 ms);\n' +
      '             embedded PGlite, in-process stream engine, LOG_LEVEL=warn;\n' +
      '             each server is SIGTERMed and awaited before the next starts',
  );

  let current: { server: Server; group: boolean } | undefined;
  const register = (server: Server, group: boolean) => {
    current = { server, group };
  };
  cleanup.push({
    what: 'stop the server',
    run: async () => {
      if (current) await stopServer(current.server, { group: current.group });
    },
  });

  const first: Timed[] = [];
  const restart: Timed[] = [];
  for (let i = 1; i <= options.runs; i++) {
    if (stop.aborted) throw new Error('interrupted');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'canopy-bench-start-'));
    cleanup.push({ what: `remove ${dataDir}`, run: () => rm(dataDir, { recursive: true, force: true }) });
    const a = await timeStart(dataDir, options, register);
    first.push(a);
    if (stop.aborted) throw new Error('interrupted');
    const b = await timeStart(dataDir, options, register);
    restart.push(b);
    console.log(
      `  run ${i}/${options.runs}: first start ${fmt(a.ms)} ms, restart ${fmt(b.ms)} ms` +
        ` (database=${a.database}, stream_engine=${a.engine}; SIGTERM→exit ${fmt(a.stopped.ms)} / ` +
        `${fmt(b.stopped.ms)} ms)`,
    );
    await rm(dataDir, { recursive: true, force: true });
  }
  const firstStats = stats(first.map((t) => t.ms));
  const restartStats = stats(restart.map((t) => t.ms));
  const line = (label: string, s: ReturnType<typeof stats>) =>
    `${label.padEnd(42)} min ${s.min} ms, median ${s.median} ms, max ${s.max} ms`;
  console.log(line('first start (empty data dir, migrations):', firstStats));
  console.log(line('restart (existing data dir):', restartStats));

  let npmStart: { ms: number; steps: string[] } | { skipped: string } | undefined;
  if (options.npmStart) npmStart = await timeNpmStart(options, register, cleanup);

  return {
    bench: 'start',
    date,
    ...m,
    command: 'node apps/cloud/bin/canopy-cloud.js serve',
    database: 'pglite',
    runs: options.runs,
    poll_ms: POLL_MS,
    first_start_ms: firstStats,
    restart_ms: restartStats,
    unclean_stops: [...first, ...restart].filter((t) => !cleanStop(t.stopped, false)).length,
    ...(npmStart
      ? { npm_start: 'ms' in npmStart ? { ms: round1(npmStart.ms), steps: npmStart.steps } : npmStart }
      : {}),
  };
}

/** The whole `npm start` once, when the root script and its file exist. */
async function timeNpmStart(
  options: Options,
  register: (server: Server, group: boolean) => void,
  cleanup: Cleanup,
): Promise<{ ms: number; steps: string[] } | { skipped: string }> {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const script = pkg.scripts?.start;
  const file = /^node\s+(\S+)/.exec(script ?? '')?.[1];
  let skipped: string | undefined;
  if (!script) skipped = 'the root package.json has no "start" script';
  else if (file && !existsSync(path.join(REPO_ROOT, file))) {
    skipped = `"npm start" runs \`${script}\` but ${file} does not exist yet`;
  }
  if (skipped) {
    console.log(`npm start:   SKIPPED: ${skipped}`);
    return { skipped };
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'canopy-bench-npm-start-'));
  cleanup.push({ what: `remove ${dataDir}`, run: () => rm(dataDir, { recursive: true, force: true }) });
  console.log(
    `npm start:   \`${script}\` once, fresh data dir, npm_config_offline=true, PORT/HOST from env ...`,
  );
  const timed = await timeStart(dataDir, options, register, {
    command: 'npm',
    args: ['start'],
    extraEnv: { npm_config_offline: 'true' },
  });
  // scripts/start.mjs announces each install/build step on stderr as "canopy: ...".
  const steps = timed.output.split('\n').filter((line) => line.startsWith('canopy: '));
  console.log(
    `npm start:   ${fmt(timed.ms)} ms to the first /healthz 200 (database=${timed.database}); ` +
      `install/build steps it ran: ${steps.length === 0 ? 'none reported' : ''}`,
  );
  for (const line of steps) console.log(`               ${line}`);
  return { ms: timed.ms, steps };
}

process.exit(
  await runBenchmark({
    name: 'start',
    help: HELP,
    parse: parseOptions,
    run,
    exitCode: () => 0,
    report: (summary) => console.log(JSON.stringify(summary)),
  }),
);
