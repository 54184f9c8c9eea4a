// The CAN relay of a real canopy-cloud under load (spec 002 §13.3): `node --import tsx bench/relay.ts --help`.
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FINGERPRINT_HEADER } from '@canopy/protocol';
import {
  DataCloudMessage,
  encodeAck,
  encodeFrames,
  inspectRelay,
  MAX_BATCH,
  type RelayFrame,
  type Side,
} from '@canopy/protocol/relay';
import WebSocket from 'ws';
import {
  type Cleanup,
  clockTicksPerSecond,
  cloudEnv,
  cpuTicks,
  createPostgresDatabase,
  createRedisPrefix,
  DashboardClient,
  ensureBuilt,
  fmt,
  freePort,
  loginCookie,
  machineCpuTicks,
  printMachine,
  round1,
  rssKiB,
  runBenchmark,
  type Server,
  sleep,
  spawnServer,
  stopServer,
  waitHealthy,
} from './common';

const HELP = `Usage: node --import tsx bench/relay.ts [options]   (or: npm run bench:relay -- [options])

Starts canopy-cloud on 127.0.0.1 and drives its CAN relay (spec 002 §13.3, WS /ws/data) through the real API:
a user signs up, registers 2 × G nodes with an enrollment key, each node keeps /ws/agent open and reports one
dongle, every dongle is paired (POST /dongles/:id/pairing-mode and /pairing-submit, answered on /ws/agent),
the dongles are grouped two by two (POST /groups), groups are activated, and each node opens /ws/data and waits
for its group_join. The nodes and their dongles are stand-ins in this process that speak the wire protocol
(packages/protocol/src/relay.ts): real canopy-nodes and canopy-dongle-sim cannot offer 900,000 frames/s on 2
cores, so the real chain (dongle-sim → canopy-node → cloud → canopy-node → dongle-sim) is measured by
apps/node/test/relay.e2e.test.ts instead. Everything stays on 127.0.0.1.

Order: a 1 s unmeasured warm-up on group 1, the replay, the console fan-out, then one run per --groups entry
(the runs last, because an overloaded run leaves the cloud with a backlog; a run after one that did not drain
is skipped and says so).

Runs: both sides of every active group send --rate frames/s for --seconds (pre-encoded 8-byte frames, flushed
every --batch-ms, each frame's ts = its send time in µs, its first 4 data bytes a counter); the other groups
are inactive. Receivers ACK about every 50 ms. After the sending stops the benchmark waits for the drain: until
every frame arrived, or nothing arrived for 15 s while the cloud used under half a core (what is missing is
lost), or 120 s in all (what is missing is "not delivered when the wait ended"). Printed per run: offered and
delivered frames/s (delivered = frames received / first send to last receipt) and the ratios to the offered
rate and to one 1 Mbit/s CAN bus (9,000 frames/s); frames lost, repeated or out of order (by the relay's seq
and by the sender's counter); added latency (receive time − ts) p50/p99/max; the CPU and RSS of the cloud, the
CPU of Redis (when it runs on this machine), of this benchmark process and of everything else, all over the
sending + drain.

Replay: group 1 only, side B's data connection closed until the group shows DEGRADED, side A sends --replay
frames at --rate (buffered), then B reconnects at least 1.5 s after the last frame (so the whole buffer is
older than the relay's 1 s backlog age): the replay rate (the cloud's RELAY_REPLAY_RATE, default 5,000/s),
the time to drain, and that every frame arrived in order.
Console fan-out: --sse subscribers (a dashboard session cookie) on GET /api/v1/streams/groups/:id/console
(or side A's dongle console if group consoles answer 404) while group 1 relays at --rate both ways:
can_frame events/s per subscriber and in total, and the delay from a frame's ts to the event's arrival (the
event's ts is in whole milliseconds, so the delay reads up to 1 ms high).

Goals (the issue, on a 2-core machine): ≥ 500,000 frames/s aggregate with zero loss; p50 ≤ 1 ms and p99 ≤ 10 ms
added latency at one group; printed met / NOT met, with what was at its limit when not met. Exits 1 on an
error, when a frame was lost or reordered (repeats are counted, not failed: the relay delivers at least once
and canopy-node drops repeats by seq), or when the cloud exited.

  --groups LIST          group counts, one run each (default 1,10,50; each 1–100)
  --rate N               frames/s per direction per group (default 9000 ≈ a full 1 Mbit/s bus; max 20000)
  --seconds S            sending time per run (default 10, max 60)
  --batch-ms MS          how often a sender flushes its frames (default 5, 1–100)
  --backend redis|embedded   redis (default): a fresh PostgreSQL database canopy_bench_<random> through
                         DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test, dropped afterwards)
                         and Redis at REDIS_URL (default redis://127.0.0.1:6379) under REDIS_KEY_PREFIX
                         canopy-bench-relay-<random>: (deleted afterwards). embedded: PGlite + the in-process
                         stream engine
  --replay N             frames for the replay measurement (default 60000, max 200000 = RELAY_MAX_FRAMES;
                         0 skips it)
  --sse N                console subscribers for the fan-out measurement (default 200, max 1000; 0 skips it)
`;

const CAN_BUS_FPS = 9000;
const GOALS = { aggregateFps: 500_000, p50Ms: 1, p99Ms: 10 };
const ACK_EVERY_MS = 50;
const DRAIN_STALL_MS = 15_000;
const DRAIN_CAP_MS = 120_000;
const WARMUP_S = 1;
/** A node reports at least every minute (a sighting goes stale after 3). */
const REPORT_EVERY_MS = 60_000;
const OVERALL_LIMIT_MS = 20 * 60_000;
const FRAMES_HEADER = 22;
const DELIVER_HEADER = 34;
/** ts 8, id 4, flags 1, dlc 1, data 8. */
const FRAME_LEN = 22;
const TWO_32 = 2 ** 32;
const SIDE_BYTE: Record<Side, number> = { a: 0, b: 1 };
const PASSWORD = `bench-relay-${randomBytes(6).toString('hex')}`;

type Options = {
  groups: number[];
  rate: number;
  seconds: number;
  batchMs: number;
  backend: 'redis' | 'embedded';
  replay: number;
  sse: number;
};

function int(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name} must be an integer from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      groups: { type: 'string' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      'batch-ms': { type: 'string' },
      backend: { type: 'string' },
      replay: { type: 'string' },
      sse: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const backend = values.backend ?? 'redis';
  if (backend !== 'redis' && backend !== 'embedded') {
    throw new Error(`--backend must be redis or embedded (got "${backend}")`);
  }
  const groups = (values.groups ?? '1,10,50').split(',').map((g) => int(g.trim(), 'groups', 0, 1, 100));
  return {
    groups,
    rate: int(values.rate, 'rate', 9000, 1, 20_000),
    seconds: int(values.seconds, 'seconds', 10, 1, 60),
    batchMs: int(values['batch-ms'], 'batch-ms', 5, 1, 100),
    backend,
    replay: int(values.replay, 'replay', 60_000, 0, 200_000),
    sse: int(values.sse, 'sse', 200, 0, 1000),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers

const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
const num = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));
const pct = (n: number) => (Number.isFinite(n) ? `${fmt(n)} %` : 'n/a');
const metOrNot = (ok: boolean) => (ok ? 'met' : 'NOT met');

function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new Error(what);
}

async function waitUntil(
  what: string,
  test: () => boolean | Promise<boolean>,
  ms: number,
  stop: AbortSignal,
) {
  const deadline = performance.now() + ms;
  while (!(await test())) {
    if (stop.aborted) throw new Error('interrupted');
    if (performance.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(20);
  }
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(items.length, concurrency) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/** Latencies in µs: 10 µs buckets up to 100 ms, then 1 ms buckets up to 200 s. */
class Latency {
  private readonly fine = new Uint32Array(10_000);
  private readonly coarse = new Uint32Array(200_000);
  count = 0;
  max = 0;

  add(us: number): void {
    const v = Math.max(us, 0);
    if (v < 100_000) this.fine[Math.floor(v / 10)] = (this.fine[Math.floor(v / 10)] ?? 0) + 1;
    else {
      const i = Math.min(this.coarse.length - 1, Math.floor(v / 1000));
      this.coarse[i] = (this.coarse[i] ?? 0) + 1;
    }
    this.count += 1;
    if (v > this.max) this.max = v;
  }

  /** The upper edge of the bucket that holds the p-th percentile (nearest rank), in µs. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.fine.length; i++) {
      seen += this.fine[i] ?? 0;
      if (seen >= rank) return Math.min(this.max, (i + 1) * 10);
    }
    for (let i = 100; i < this.coarse.length; i++) {
      seen += this.coarse[i] ?? 0;
      if (seen >= rank) return Math.min(this.max, (i + 1) * 1000);
    }
    return this.max;
  }

  summary() {
    const ms = (us: number) => Math.round(us / 10) / 100;
    return {
      n: this.count,
      p50_ms: ms(this.percentile(50)),
      p99_ms: ms(this.percentile(99)),
      max_ms: ms(this.max),
    };
  }
}

/** CPU of the cloud, Redis, this process and the machine over a window, and the cloud's RSS. */
class CpuWindow {
  private readonly t0 = performance.now();
  private readonly cloud0: number;
  private readonly redis0: number;
  private readonly helper0: number;
  private readonly self0 = process.cpuUsage();
  private readonly machine0 = machineCpuTicks();
  /** The last readable figures of the cloud (it may exit during the window) and when they were read. */
  private cloudLast: { ticks: number; rss: number; at: number };
  private rssPeak = 0;
  private readonly sampler: NodeJS.Timeout;
  /** This process's event-loop delay: a busy benchmark would read frames late and inflate the latency. */
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });

  constructor(
    private readonly cloudPid: number,
    private readonly redisPid: number,
    private readonly ticksPerS: number,
    /** A helper process of the benchmark (the console subscribers), counted apart. */
    private readonly helperPid = Number.NaN,
  ) {
    this.helper0 = cpuTicks(helperPid);
    this.cloud0 = cpuTicks(cloudPid);
    this.cloudLast = { ticks: this.cloud0, rss: rssKiB(cloudPid), at: this.t0 };
    this.redis0 = Number.isFinite(redisPid) ? cpuTicks(redisPid) : Number.NaN;
    this.sampler = setInterval(() => this.sampleCloud(), 500);
    this.loop.enable();
  }

  private sampleCloud(): void {
    const ticks = cpuTicks(this.cloudPid);
    const rss = rssKiB(this.cloudPid);
    if (!Number.isFinite(ticks) || !Number.isFinite(rss)) return;
    this.cloudLast = { ticks, rss, at: performance.now() };
    this.rssPeak = Math.max(this.rssPeak, rss);
  }

  end() {
    clearInterval(this.sampler);
    this.loop.disable();
    this.sampleCloud();
    const wallS = (performance.now() - this.t0) / 1000;
    const cloudS = (this.cloudLast.at - this.t0) / 1000;
    const self = process.cpuUsage(this.self0);
    const machine = machineCpuTicks();
    // The histogram holds the whole interval between timer runs: the delay is what exceeds the 10 ms timer.
    const loopMs = (ns: number) => Math.round(Math.max(0, ns - 10e6) / 1e4) / 100;
    return {
      wall_s: round1(wallS),
      cloud_pct: round1(((this.cloudLast.ticks - this.cloud0) / this.ticksPerS / cloudS) * 100),
      redis_pct: round1(((cpuTicks(this.redisPid) - this.redis0) / this.ticksPerS / wallS) * 100),
      bench_pct: round1(((self.user + self.system) / 1e6 / wallS) * 100),
      helper_pct: round1(((cpuTicks(this.helperPid) - this.helper0) / this.ticksPerS / wallS) * 100),
      bench_loop_delay_ms: {
        p50: loopMs(this.loop.percentile(50)),
        p99: loopMs(this.loop.percentile(99)),
        max: loopMs(this.loop.max),
      },
      machine_pct: round1(
        ((machine.busy - this.machine0.busy) / (machine.total - this.machine0.total)) * 100,
      ),
      cores: os.cpus().length,
      cloud_rss_mib: round1(this.cloudLast.rss / 1024),
      cloud_rss_peak_mib: round1(this.rssPeak / 1024),
    };
  }
}
type Cpu = ReturnType<CpuWindow['end']>;

/** The cloud's warnings and errors (pino JSON at LOG_LEVEL=warn), counted by message. */
class CloudLog {
  readonly counts = new Map<string, { n: number; sample: string }>();
  private partial = '';

  attach(server: Server): void {
    const take = (chunk: Buffer) => {
      const lines = (this.partial + chunk.toString()).split('\n');
      this.partial = (lines.pop() ?? '').slice(-65_536);
      for (const line of lines) {
        let entry: { level?: number; msg?: string } | undefined;
        try {
          entry = JSON.parse(line);
        } catch {
          continue;
        }
        if ((entry?.level ?? 0) < 40) continue;
        const key = `${entry?.level === 40 ? 'warn' : 'error'}: ${entry?.msg ?? '?'}`;
        const seen = this.counts.get(key);
        if (seen) seen.n += 1;
        else this.counts.set(key, { n: 1, sample: line.slice(0, 400) });
      }
    };
    server.child.stdout?.on('data', take);
    server.child.stderr?.on('data', take);
  }

  print(): void {
    if (this.counts.size === 0) console.log('cloud log:   no warnings or errors');
    for (const [key, { n, sample }] of this.counts)
      console.log(`cloud log:   ${n} × ${key} (e.g. ${sample})`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The stand-ins: one node with one dongle each

/** What a receiving side saw in the current run. */
type Tally = {
  frames: number;
  unique: number;
  repeated: number;
  gaps: number;
  missing: number;
  outOfSeq: number;
  malformed: number;
  epochChanges: number;
  /** group_join / group_leave for this side during the run. */
  joins: number;
  leaves: number;
  firstAt: number;
  lastAt: number;
};
const newTally = (): Tally => ({
  frames: 0,
  unique: 0,
  repeated: 0,
  gaps: 0,
  missing: 0,
  outOfSeq: 0,
  malformed: 0,
  epochChanges: 0,
  joins: 0,
  leaves: 0,
  firstAt: 0,
  lastAt: 0,
});

/**
 * canopy-node and its dongle as far as the cloud can tell: /ws/agent (welcome, dongle reports, pairing
 * answers) and /ws/data (FRAMES from its side, DELIVER to it, ACKs). Receive state outlives a data connection.
 */
class StandIn {
  readonly deviceId = randomBytes(8).toString('hex');
  readonly fingerprint: string;
  agentId = '';
  agentToken = '';
  dongleId = '';
  group: { id: string; side: Side } | null = null;
  control: WebSocket | null = null;
  data: WebSocket | null = null;
  dataClosed: Promise<void> = Promise.resolve();
  joined = false;
  maxBatch = MAX_BATCH;
  problems: string[] = [];
  // receiving
  epoch = 0;
  expectedSeq = 1;
  expectedCounter = 0;
  lastSeq = 0;
  ackedSeq = 0;
  tally = newTally();
  latency = new Latency();
  // sending
  private template: Buffer | null = null;
  counter = 0;
  sent = 0;
  sendQueuePeak = 0;

  constructor(
    readonly index: number,
    private readonly base: string,
    suffix: string,
  ) {
    this.fingerprint = createHash('sha256').update(`canopy-bench-relay-${suffix}-${index}`).digest('hex');
  }

  private headers() {
    return { authorization: `Bearer ${this.agentToken}`, [FINGERPRINT_HEADER]: this.fingerprint };
  }

  async register(enrollmentKey: string): Promise<void> {
    const res = await fetch(`${this.base}/api/v1/agents/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        enrollment_key: enrollmentKey,
        hostname: `relay-bench-${this.index}`,
        os: 'linux (stand-in of bench/relay.ts)',
        version: '0.0.0-bench',
        network_interfaces: [],
        fingerprint: this.fingerprint,
      }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as { agent_id?: string; agent_token?: string };
    check(res.status === 201 && !!body.agent_id, `register answered ${res.status}: ${JSON.stringify(body)}`);
    this.agentId = body.agent_id as string;
    this.agentToken = body.agent_token as string;
  }

  /** /ws/agent until the welcome; then it answers pairing requests and reports its dongle. */
  connectControl(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.base.replace('http', 'ws')}/ws/agent`, {
        headers: this.headers(),
        perMessageDeflate: false,
      });
      this.control = ws;
      const timer = setTimeout(() => reject(new Error(`node ${this.index}: no welcome in 30 s`)), 30_000);
      ws.on('message', (raw) => {
        const m = JSON.parse(raw.toString()) as {
          type: string;
          request_id?: string;
          request?: { op: string };
        };
        if (m.type === 'welcome') {
          clearTimeout(timer);
          this.report();
          resolve();
        } else if (m.type === 'dongle_request') this.answer(ws, m.request_id ?? '', m.request?.op ?? '');
      });
      ws.on('unexpected-response', (_req, res) => reject(new Error(`/ws/agent answered ${res.statusCode}`)));
      ws.on('error', (err) => reject(err));
      ws.on('close', (code) => {
        if (code !== 1000 && code !== 1005) this.problems.push(`/ws/agent closed ${code}`);
      });
    });
  }

  /** One dongle on loopback (nothing is sent to its address: the cloud talks to dongles through nodes). */
  report(): void {
    const dongle = {
      device_id: this.deviceId,
      lan_ip: `127.0.0.${(this.index % 250) + 1}`,
      udp_port: 40_000 + this.index,
      fw_build: 'bench-stand-in',
      proto_ver: 1,
      capabilities: 0,
      pairing_state: 'normal',
      interface: 'lo',
      online: true,
      last_seen_at: new Date().toISOString(),
    };
    if (this.control?.readyState === WebSocket.OPEN) {
      this.control.send(JSON.stringify({ type: 'dongle_report', dongles: [dongle] }));
    }
  }

  /** The dongle's side of pairing: it enters pairing mode, and takes whatever PIN and token it is given. */
  private answer(ws: WebSocket, requestId: string, op: string): void {
    const outcome =
      op === 'pairing_start'
        ? {
            ok: true,
            result: { op, status: 'ok', seconds: 120, pairing_nonce: randomBytes(16).toString('base64') },
          }
        : op === 'pairing_submit'
          ? { ok: true, result: { op, status: 'ok', seconds: 0 } }
          : { ok: false, code: 'NODE_ERROR', message: `the benchmark's stand-in does not do ${op}` };
    ws.send(JSON.stringify({ type: 'dongle_response', request_id: requestId, outcome }));
  }

  /** /ws/data until data_welcome; group_join / group_leave for its side are tracked in `joined`. */
  connectData(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.base.replace('http', 'ws')}/ws/data`, {
        headers: this.headers(),
        perMessageDeflate: false,
      });
      ws.binaryType = 'nodebuffer';
      this.data = ws;
      this.joined = false;
      const timer = setTimeout(
        () => reject(new Error(`node ${this.index}: no data_welcome in 30 s`)),
        30_000,
      );
      this.dataClosed = new Promise((closed) => ws.once('close', () => closed()));
      ws.on('message', (raw: Buffer, isBinary) => {
        if (isBinary) {
          this.receive(raw);
          return;
        }
        const parsed = DataCloudMessage.safeParse(JSON.parse(raw.toString()));
        if (!parsed.success) {
          this.problems.push(`unexpected text on /ws/data: ${raw.toString().slice(0, 200)}`);
          return;
        }
        const m = parsed.data;
        if (m.type === 'data_welcome') {
          clearTimeout(timer);
          this.maxBatch = Math.min(MAX_BATCH, m.max_batch);
          resolve();
        } else if (this.group && m.group_id === this.group.id && m.side === this.group.side) {
          this.joined = m.type === 'group_join';
          if (m.type === 'group_join') this.tally.joins += 1;
          else this.tally.leaves += 1;
        } else {
          this.problems.push(`${m.type} for a group side this node does not hold`);
        }
      });
      ws.on('unexpected-response', (_req, res) => reject(new Error(`/ws/data answered ${res.statusCode}`)));
      ws.on('error', (err) => reject(err));
      ws.on('close', () => {
        this.joined = false;
      });
    });
  }

  async closeData(): Promise<void> {
    this.data?.close(1000);
    await this.dataClosed;
    this.data = null;
  }

  /** Sends `count` frames now, in FRAMES messages of at most max_batch frames, each stamped with its send time. */
  send(count: number): void {
    const ws = this.data;
    const group = this.group;
    if (!ws || !group || ws.readyState !== WebSocket.OPEN) {
      this.problems.push('a sender found its data connection closed');
      return;
    }
    if (!this.template) {
      const frame: RelayFrame = {
        tsUs: 0n,
        id: 0x100 + (this.index % 0x100),
        extended: false,
        flags: 0,
        data: new Uint8Array(8),
      };
      this.template = encodeFrames(group.id, group.side, Array(MAX_BATCH).fill(frame));
    }
    let left = count;
    while (left > 0) {
      const n = Math.min(left, this.maxBatch);
      const len = FRAMES_HEADER + n * FRAME_LEN;
      const out = Buffer.allocUnsafe(len);
      this.template.copy(out, 0, 0, len);
      out.writeUInt16BE(n, 20);
      const us = nowUs();
      const hi = Math.floor(us / TWO_32);
      const lo = us - hi * TWO_32;
      let c = this.counter;
      for (let at = FRAMES_HEADER; at < len; at += FRAME_LEN) {
        out.writeUInt32BE(hi, at);
        out.writeUInt32BE(lo, at + 4);
        out.writeUInt32BE(c, at + 14);
        c = (c + 1) >>> 0;
      }
      this.counter = c;
      ws.send(out);
      this.sent += n;
      left -= n;
    }
    this.sendQueuePeak = Math.max(this.sendQueuePeak, ws.bufferedAmount);
  }

  /** A DELIVER: checked with the protocol's decoder, then every frame by seq, by counter, and its latency. */
  private receive(b: Buffer): void {
    const recvUs = nowUs();
    const t = this.tally;
    const checked = inspectRelay(b);
    if (!checked.ok || checked.value.kind !== 'deliver' || b[18] !== SIDE_BYTE[this.group?.side ?? 'a']) {
      t.malformed += 1;
      return;
    }
    const epoch = b.readUInt32BE(20);
    const firstSeq = b.readUInt32BE(24) * TWO_32 + b.readUInt32BE(28);
    const count = b.readUInt16BE(32);
    if (epoch !== this.epoch) {
      if (this.epoch !== 0) t.epochChanges += 1;
      this.epoch = epoch;
      this.expectedSeq = 1;
    }
    let at = DELIVER_HEADER;
    for (let i = 0; i < count; i++) {
      const seq = firstSeq + i;
      const dlc = b[at + 13] as number;
      if (seq < this.expectedSeq) {
        // A repeat (the relay re-reads what was not acknowledged when it attaches a side again): canopy-node
        // drops it by seq, so it is counted and otherwise ignored.
        t.repeated += 1;
      } else {
        if (seq > this.expectedSeq) {
          t.gaps += 1;
          t.missing += seq - this.expectedSeq;
        }
        t.unique += 1;
        this.expectedSeq = seq + 1;
        this.latency.add(recvUs - (b.readUInt32BE(at) * TWO_32 + b.readUInt32BE(at + 4)));
        const counter = dlc >= 4 ? b.readUInt32BE(at + 14) : -1;
        if (counter !== this.expectedCounter) t.outOfSeq += 1;
        this.expectedCounter = (counter + 1) >>> 0;
      }
      at += 14 + dlc;
    }
    t.frames += count;
    const now = performance.now();
    if (t.firstAt === 0) t.firstAt = now;
    t.lastAt = now;
    this.lastSeq = Math.max(this.lastSeq, firstSeq + count - 1);
  }

  /** ACKs the last frame received, if it was not acknowledged yet. */
  ack(): void {
    const ws = this.data;
    if (!ws || !this.group || !this.joined || this.lastSeq <= this.ackedSeq) return;
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(
      encodeAck({ groupId: this.group.id, side: this.group.side, epoch: this.epoch, seq: this.lastSeq }),
    );
    this.ackedSeq = this.lastSeq;
  }

  resetRun(latency: Latency): void {
    this.tally = newTally();
    this.latency = latency;
    this.sent = 0;
    this.sendQueuePeak = 0;
  }
}

/** Side A and side B of one group. */
type Pair = { id: string; a: StandIn; b: StandIn };

/**
 * Every sender of `pairs` sends `perSender` frames at `rate` frames/s, flushing every `batchMs` (the senders'
 * phases spread over the batch interval). Frames due are computed from the elapsed time, so late timers send
 * bigger batches rather than fewer frames. Resolves with when sending started and ended.
 */
function sendAll(
  senders: StandIn[],
  rate: number,
  perSender: number,
  batchMs: number,
  stop: AbortSignal,
): Promise<{ startedAt: number; endedAt: number }> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    let running = senders.length;
    const timers: NodeJS.Timeout[] = [];
    const onAbort = () => {
      for (const t of timers) clearTimeout(t);
      reject(new Error('interrupted'));
    };
    stop.addEventListener('abort', onAbort, { once: true });
    senders.forEach((sender, i) => {
      let sent = 0;
      let interval: NodeJS.Timeout | undefined;
      const tick = () => {
        const due = Math.min(perSender, Math.floor(((performance.now() - startedAt) * rate) / 1000));
        if (due > sent) {
          sender.send(due - sent);
          sent = due;
        }
        if (sent >= perSender) {
          clearInterval(interval);
          if (--running === 0) {
            stop.removeEventListener('abort', onAbort);
            resolve({ startedAt, endedAt: performance.now() });
          }
        }
      };
      timers.push(
        setTimeout(
          () => {
            tick();
            if (sent < perSender) {
              interval = setInterval(tick, batchMs);
              timers.push(interval);
            }
          },
          (i / senders.length) * batchMs,
        ),
      );
    });
  });
}

/**
 * How a drain ended: every frame arrived; nothing arrived for DRAIN_STALL_MS while the cloud was idle (what is
 * missing is lost); DRAIN_CAP_MS passed while the cloud was still working (what is missing was not delivered
 * in time, not judged lost); or the cloud exited.
 */
type DrainEnd = 'complete' | 'idle' | 'cap' | 'cloud exited';

/** Waits for every frame sent to reach the other side; bounded by DRAIN_STALL_MS of idleness and DRAIN_CAP_MS. */
async function drain(ctx: Ctx, pairs: Pair[]): Promise<DrainEnd> {
  const started = performance.now();
  let last = -1;
  let lastChange = started;
  // The cloud still burning CPU counts as progress: an overloaded cloud may ingest for a long time first.
  let ticks = cpuTicks(ctx.pids.cloud());
  let ticksAt = started;
  for (;;) {
    if (ctx.stop.aborted) throw new Error('interrupted');
    if (!ctx.alive()) return 'cloud exited';
    let done = true;
    let got = 0;
    for (const p of pairs) {
      got += p.a.tally.unique + p.b.tally.unique;
      if (p.b.tally.unique < p.a.sent || p.a.tally.unique < p.b.sent) done = false;
    }
    if (done) return 'complete';
    const now = performance.now();
    if (got !== last) {
      last = got;
      lastChange = now;
    }
    if (now - ticksAt >= 1000) {
      const t = cpuTicks(ctx.pids.cloud());
      if ((t - ticks) / ctx.ticksPerS / ((now - ticksAt) / 1000) >= 0.5) lastChange = now;
      ticks = t;
      ticksAt = now;
    }
    if (now - started > DRAIN_CAP_MS) return 'cap';
    if (now - lastChange > DRAIN_STALL_MS) return 'idle';
    await sleep(10);
  }
}

// ---------------------------------------------------------------------------------------------------------
// One measured run

type RunResult = {
  groups: number;
  offered_fps: number;
  sent: number;
  sent_fps: number;
  delivered: number;
  delivered_fps: number;
  ratio_to_offered: number;
  can_buses: number;
  drain: DrainEnd;
  drain_s: number;
  /** Frames received after the sending stopped, and their rate (the relay catching up on its own). */
  after_send: number;
  after_send_fps: number;
  lost: number;
  repeated: number;
  gaps: number;
  missing: number;
  out_of_sequence: number;
  malformed: number;
  epoch_changes: number;
  rejoins: number;
  leaves: number;
  latency: ReturnType<Latency['summary']>;
  cpu: Cpu;
  client_send_queue_peak_kib: number;
};

type Ctx = {
  pids: { cloud: () => number; redis: number };
  alive: () => boolean;
  ticksPerS: number;
  stop: AbortSignal;
  options: Options;
};

async function relayRun(ctx: Ctx, pairs: Pair[], perSender: number, helperPid?: number): Promise<RunResult> {
  const { options, stop } = ctx;
  const latency = new Latency();
  for (const p of pairs) for (const s of [p.a, p.b]) s.resetRun(latency);
  const cpu = new CpuWindow(ctx.pids.cloud(), ctx.pids.redis, ctx.ticksPerS, helperPid);
  const senders = pairs.flatMap((p) => [p.a, p.b]);
  const { startedAt, endedAt } = await sendAll(senders, options.rate, perSender, options.batchMs, stop);
  const atSendEnd = senders.reduce((n, s) => n + s.tally.unique, 0);
  const drained = await drain(ctx, pairs);
  for (const s of senders) s.ack();
  const usage = cpu.end();
  const sum = (f: (s: StandIn) => number) => senders.reduce((n, s) => n + f(s), 0);
  const sent = sum((s) => s.sent);
  const delivered = sum((s) => s.tally.unique);
  const lastAt = Math.max(...senders.map((s) => s.tally.lastAt));
  const deliveredFps = delivered / ((lastAt - startedAt) / 1000);
  const offered = options.rate * senders.length;
  return {
    groups: pairs.length,
    offered_fps: offered,
    sent,
    sent_fps: Math.round(sent / ((endedAt - startedAt) / 1000)),
    delivered,
    delivered_fps: Math.round(deliveredFps),
    ratio_to_offered: Math.round((deliveredFps / offered) * 1000) / 1000,
    can_buses: round1(deliveredFps / CAN_BUS_FPS),
    drain: drained,
    drain_s: Math.round(Math.max(0, lastAt - endedAt)) / 1000,
    after_send: delivered - atSendEnd,
    after_send_fps: lastAt > endedAt ? Math.round((delivered - atSendEnd) / ((lastAt - endedAt) / 1000)) : 0,
    lost: sent - delivered,
    repeated: sum((s) => s.tally.repeated),
    gaps: sum((s) => s.tally.gaps),
    missing: sum((s) => s.tally.missing),
    out_of_sequence: sum((s) => s.tally.outOfSeq),
    malformed: sum((s) => s.tally.malformed),
    epoch_changes: sum((s) => s.tally.epochChanges),
    rejoins: sum((s) => s.tally.joins),
    leaves: sum((s) => s.tally.leaves),
    latency: latency.summary(),
    cpu: usage,
    client_send_queue_peak_kib: Math.round(Math.max(...senders.map((s) => s.sendQueuePeak)) / 1024),
  };
}

const DRAIN_WORDS: Record<DrainEnd, string> = {
  complete: '',
  idle: ` (drain INCOMPLETE: nothing arrived for ${DRAIN_STALL_MS / 1000} s and the cloud was idle)`,
  cap: ` (drain INCOMPLETE: the wait ended after ${DRAIN_CAP_MS / 1000} s with the cloud still working)`,
  'cloud exited': ' (the cloud EXITED during the run)',
};

/** CPU of everything else on the machine (PostgreSQL, other work), in % of one core. */
const othersPct = (c: Cpu) =>
  round1(
    c.machine_pct * c.cores - (c.cloud_pct || 0) - c.bench_pct - (c.redis_pct || 0) - (c.helper_pct || 0),
  );

function printRun(label: string, r: RunResult, options: Options): void {
  console.log(
    `${label}: ${r.groups} group(s) × 2 directions × ${num(options.rate)} frames/s for ${options.seconds} s, ` +
      `flushed every ${options.batchMs} ms`,
  );
  console.log(
    `  offered    ${num(r.offered_fps)} frames/s (${fmt(r.offered_fps / CAN_BUS_FPS)} CAN buses); ` +
      `sent ${num(r.sent)} frames at ${num(r.sent_fps)}/s`,
  );
  console.log(
    `  delivered  ${num(r.delivered)} frames at ${num(r.delivered_fps)} frames/s = ${r.ratio_to_offered} × offered ` +
      `= ${fmt(r.can_buses)} × a CAN bus (9,000 frames/s); last frame ${r.drain_s} s after the sending stopped` +
      (r.after_send > 1000 ? ` (${num(r.after_send)} frames after it, at ${num(r.after_send_fps)}/s)` : '') +
      DRAIN_WORDS[r.drain],
  );
  const lost =
    r.drain === 'cap'
      ? `not delivered when the wait ended ${num(r.lost)}`
      : r.drain === 'cloud exited'
        ? `not delivered before the cloud exited ${num(r.lost)}`
        : `lost ${num(r.lost)}`;
  console.log(
    `  integrity  ${lost}; by seq: ${num(r.repeated)} repeated (dropped by seq, as canopy-node does), ${num(r.gaps)} gaps ` +
      `(${num(r.missing)} frames skipped); by the sender's counter: ${num(r.out_of_sequence)} out of sequence; ` +
      `malformed ${r.malformed}; epoch changes ${r.epoch_changes}; sides let go and joined again by the relay ` +
      `during the run: ${r.leaves} group_leave, ${r.rejoins} group_join`,
  );
  console.log(
    `  latency    added (receive − ts): p50 ${fmt2(r.latency.p50_ms)} ms, p99 ${fmt2(r.latency.p99_ms)} ms, ` +
      `max ${fmt2(r.latency.max_ms)} ms over ${num(r.latency.n)} frames`,
  );
  console.log(
    `  cpu        cloud ${pct(r.cpu.cloud_pct)} of one core, RSS ${fmt(r.cpu.cloud_rss_mib)} MiB ` +
      `(peak ${fmt(r.cpu.cloud_rss_peak_mib)}); redis ${pct(r.cpu.redis_pct)}; this benchmark ${pct(r.cpu.bench_pct)} ` +
      `(its event-loop delay p99 ${fmt2(r.cpu.bench_loop_delay_ms.p99)} ms, max ${fmt2(r.cpu.bench_loop_delay_ms.max)}); ` +
      (Number.isFinite(r.cpu.helper_pct)
        ? `the console subscribers' process ${pct(r.cpu.helper_pct)}; `
        : '') +
      `everything else ${pct(othersPct(r.cpu))}; machine ${pct(r.cpu.machine_pct)} of ${r.cpu.cores} cores busy ` +
      `(over ${fmt(r.cpu.wall_s)} s: sending + drain); client send queue peak ${num(r.client_send_queue_peak_kib)} KiB`,
  );
}
const fmt2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

/** What is at its limit in a run, from the CPU figures. */
function saturation(r: RunResult): string {
  const found: string[] = [];
  if (r.cpu.cloud_pct >= 85) found.push(`the cloud's event loop (${pct(r.cpu.cloud_pct)} of one core)`);
  if (r.cpu.bench_pct >= 85) found.push(`this benchmark process (${pct(r.cpu.bench_pct)} of one core)`);
  if (r.cpu.redis_pct >= 85) found.push(`Redis (${pct(r.cpu.redis_pct)} of one core)`);
  if (othersPct(r.cpu) >= 50) found.push(`other work on the machine (${pct(othersPct(r.cpu))} of one core)`);
  if (r.cpu.machine_pct >= 90)
    found.push(`the machine (${pct(r.cpu.machine_pct)} of ${r.cpu.cores} cores busy)`);
  return found.length > 0 ? found.join('; ') : 'no process at a CPU limit by these figures';
}

// ---------------------------------------------------------------------------------------------------------
// Console subscribers (SSE)

/** One text/event-stream client (node:http, its own socket) that counts can_frame events and their delay. */
class Subscriber {
  status = 0;
  canFrames = 0;
  /** can_frame events of frames sent from `steadyFromMs` on. */
  steadyFrames = 0;
  steadyFromMs = Number.POSITIVE_INFINITY;
  oneIn = 1;
  /** The stream ended before the benchmark closed it. */
  endedEarly = false;
  lastEventAt = 0;
  private closing = false;
  private buffer = '';
  private req: http.ClientRequest | null = null;

  constructor(
    private readonly delays: Latency,
    /** The delays of the events counted in steadyFrames. */
    private readonly steadyDelays?: Latency,
  ) {}

  open(url: string, cookie: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.get(url, { agent: false, headers: { accept: 'text/event-stream', cookie } });
      this.req = req;
      req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
      req.on('error', (err) => {
        if (this.status === 0) reject(err);
        else if (!this.closing) this.endedEarly = true;
      });
      req.on('response', (res) => {
        this.status = res.statusCode ?? 0;
        req.setTimeout(0);
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.take(chunk));
        res.on('close', () => {
          if (!this.closing) this.endedEarly = true;
        });
        resolve(this.status);
      });
    });
  }

  close(): void {
    this.closing = true;
    this.req?.destroy();
  }

  private take(chunk: string): void {
    const arrivalMs = performance.timeOrigin + performance.now();
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = '';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (event === 'can_frame') {
        const ts = Date.parse((JSON.parse(data) as { ts: string }).ts);
        this.delays.add((arrivalMs - ts) * 1000);
        this.canFrames += 1;
        if (ts >= this.steadyFromMs) {
          this.steadyFrames += 1;
          this.steadyDelays?.add((arrivalMs - ts) * 1000);
        }
        this.lastEventAt = performance.now();
      } else if (event === 'log') {
        const details = (JSON.parse(data) as { details?: { one_in?: number } }).details;
        if (typeof details?.one_in === 'number') this.oneIn = details.one_in;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Main

async function run(options: Options, cleanup: Cleanup, stop: AbortSignal) {
  const runStarted = performance.now();
  const date = new Date().toISOString();
  console.log(`Canopy relay benchmark (bench/relay.ts), ${date}`);
  const machine = printMachine();
  console.log(
    `build:       ${ensureBuilt('@canopy/cloud', 'apps/cloud/dist/cli.js', [
      'apps/cloud/src',
      'apps/cloud/build.mjs',
      'apps/cloud/package.json',
      'packages/protocol/src',
      'packages/terminal/src',
      'scripts/bundle.mjs',
    ])}`,
  );
  const maxGroups = Math.max(...options.groups);
  const ticksPerS = clockTicksPerSecond();

  // ---- the cloud ----
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'canopy-bench-relay-'));
  cleanup.push({ what: `remove ${dataDir}`, run: () => rm(dataDir, { recursive: true, force: true }) });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const vars: Record<string, string> = {
    PORT: String(port),
    PUBLIC_URL: base,
    CANOPY_DATA_DIR: dataDir,
    RATE_LIMIT_REGISTER_MAX: '100000',
  };
  let backendLabel = 'embedded (PGlite in CANOPY_DATA_DIR + the in-process stream engine)';
  let redisPid = Number.NaN;
  if (options.backend === 'redis') {
    const database = await createPostgresDatabase(cleanup);
    const redis = await createRedisPrefix(cleanup, 'relay');
    vars.DATABASE_URL = database.url;
    vars.REDIS_URL = redis.url;
    vars.REDIS_KEY_PREFIX = redis.prefix;
    redisPid = Number.isFinite(cpuTicks(redis.pid)) ? redis.pid : Number.NaN;
    backendLabel =
      `PostgreSQL ${database.version} (fresh database ${database.name}) + Redis ${redis.version} ` +
      `(REDIS_KEY_PREFIX ${redis.prefix}; ${Number.isFinite(redisPid) ? `pid ${redisPid}` : 'its CPU is not visible here'})`;
  }
  console.log(`backend:     ${backendLabel}`);
  const env = cloudEnv(vars);
  // The relay's own settings at their defaults, whatever this shell has.
  for (const key of ['RELAY_REPLAY_RATE', 'RELAY_MAX_FRAMES', 'RELAY_MAX_AGE_S']) delete env[key];
  const server = spawnServer({ env, port });
  const log = new CloudLog();
  log.attach(server);
  cleanup.push({ what: 'print the cloud log', run: async () => log.print() });
  cleanup.push({ what: 'stop the cloud', run: async () => void (await stopServer(server)) });
  const health = await waitHealthy(server, { timeoutMs: 60_000 });
  const cloudPid = () => server.child.pid ?? 0;
  let cloudGone = false;
  void server.exited.then(() => {
    cloudGone = true;
  });
  const alive = () => check(!cloudGone, `the cloud exited:\n${server.output}`);
  console.log(
    `cloud:       pid ${cloudPid()} on ${base} (database=${health.checks.database.kind}, ` +
      `stream_engine=${health.checks.stream_engine.kind}); relay settings at their defaults`,
  );

  // ---- a user, 2 × G nodes with a dongle each, pairing, groups ----
  const setupStarted = performance.now();
  const suffix = randomBytes(4).toString('hex');
  const email = `bench-relay-${suffix}@bench.canopy.localhost`;
  const owner = new DashboardClient(base);
  const signup = await owner.request('POST', '/api/v1/auth/signup', { email, password: PASSWORD });
  check(signup.status === 201, `signup answered ${signup.status}: ${JSON.stringify(signup.json)}`);
  const key = await owner.request('POST', '/api/v1/agents/enrollment-keys', { label: 'bench relay' });
  const enrollmentKey = (key.json as { secret?: string }).secret;
  check(key.status === 201 && !!enrollmentKey, `POST /agents/enrollment-keys answered ${key.status}`);

  const standIns = Array.from({ length: 2 * maxGroups }, (_, i) => new StandIn(i, base, suffix));
  cleanup.push({
    what: 'close the stand-ins',
    run: async () => {
      for (const s of standIns) {
        s.control?.terminate();
        s.data?.terminate();
      }
    },
  });
  await pool(standIns, 10, (s) => s.register(enrollmentKey as string));
  await pool(standIns, 8, (s) => s.connectControl());
  const reporter = setInterval(() => {
    for (const s of standIns) s.report();
  }, REPORT_EVERY_MS);
  cleanup.push({ what: 'stop the dongle reports', run: async () => clearInterval(reporter) });
  await waitUntil(
    `the cloud to list all ${standIns.length} dongles`,
    async () => {
      const list = (await owner.request('GET', '/api/v1/dongles')).json as {
        dongles?: Array<{ id: string; device_id: string; online: boolean }>;
      };
      const byDevice = new Map((list.dongles ?? []).filter((d) => d.online).map((d) => [d.device_id, d.id]));
      for (const s of standIns) s.dongleId = byDevice.get(s.deviceId) ?? '';
      return standIns.every((s) => s.dongleId);
    },
    30_000,
    stop,
  );
  await pool(standIns, 8, async (s) => {
    const started = await owner.request('POST', `/api/v1/dongles/${s.dongleId}/pairing-mode`, {
      action: 'start',
    });
    check(started.status === 200, `pairing-mode answered ${started.status}: ${JSON.stringify(started.json)}`);
    const session = (started.json as { pairing_session_id: string }).pairing_session_id;
    const paired = await owner.request('POST', `/api/v1/dongles/${s.dongleId}/pairing-submit`, {
      pairing_session_id: session,
      pin: '123456',
    });
    check(paired.status === 200, `pairing-submit answered ${paired.status}: ${JSON.stringify(paired.json)}`);
  });
  const pairs: Pair[] = [];
  for (let g = 0; g < maxGroups; g++) {
    const a = standIns[2 * g] as StandIn;
    const b = standIns[2 * g + 1] as StandIn;
    const created = await owner.request('POST', '/api/v1/groups', {
      name: `bench relay ${g + 1}`,
      dongle_a_id: a.dongleId,
      dongle_b_id: b.dongleId,
    });
    check(created.status === 201, `POST /groups answered ${created.status}: ${JSON.stringify(created.json)}`);
    const id = (created.json as { group: { id: string } }).group.id;
    a.group = { id, side: 'a' };
    b.group = { id, side: 'b' };
    pairs.push({ id, a, b });
  }
  await pool(standIns, 10, (s) => s.connectData());
  const acker = setInterval(() => {
    for (const s of standIns) s.ack();
  }, ACK_EVERY_MS);
  cleanup.push({ what: 'stop the ACKs', run: async () => clearInterval(acker) });
  console.log(
    `setup:       ${standIns.length} stand-in nodes registered, on /ws/agent and /ws/data, one dongle each, ` +
      `all paired; ${maxGroups} groups created in ${fmt((performance.now() - setupStarted) / 1000)} s`,
  );

  // Exactly the first n groups bridged (the others inactive), every side of those joined.
  const active = new Set<string>();
  const bridge = async (n: number) => {
    for (const [g, p] of pairs.entries()) {
      const want = g < n;
      if (want === active.has(p.id)) continue;
      const reply = await owner.request('POST', `/api/v1/groups/${p.id}/${want ? 'activate' : 'deactivate'}`);
      check(reply.status === 200, `group ${want ? 'activate' : 'deactivate'} answered ${reply.status}`);
      if (want) active.add(p.id);
      else active.delete(p.id);
    }
    await waitUntil(
      `${n} group(s) bridged (group_join on both sides) and the others let go`,
      () => pairs.every((p, g) => p.a.joined === g < n && p.b.joined === g < n),
      30_000,
      stop,
    );
  };
  const ctx: Ctx = {
    pids: { cloud: cloudPid, redis: redisPid },
    alive: () => !cloudGone,
    ticksPerS,
    stop,
    options,
  };
  const groupOf = async (id: string) =>
    (await owner.request('GET', `/api/v1/groups/${id}`)).json as {
      group: { mode: string; buffer: { a_to_b: number; b_to_a: number } };
    };

  // ---- warm-up (not counted) ----
  await bridge(1);
  const warm = await relayRun(ctx, pairs.slice(0, 1), options.rate * WARMUP_S);
  console.log(
    `warm-up:     group 1 relayed ${num(warm.delivered)} of ${num(warm.sent)} frames in ${WARMUP_S} s (not counted)`,
  );

  // Replay and the console first: an overloaded run leaves the cloud with a backlog that would skew them.
  const first = pairs[0] as Pair;
  const replay = options.replay > 0 ? await measureReplay(ctx, first, bridge, groupOf) : null;
  const sse =
    options.sse > 0
      ? await measureConsole(ctx, first, bridge, cleanup, base, await loginCookie(base, email, PASSWORD))
      : null;

  // ---- the runs ----
  const perSender = options.rate * options.seconds;
  const runs: RunResult[] = [];
  const skipped: number[] = [];
  for (const [i, n] of options.groups.entries()) {
    const label = `run ${i + 1}/${options.groups.length}`;
    const behind = runs.find((r) => r.drain !== 'complete');
    if (behind) {
      skipped.push(n);
      console.log(
        `${label}: ${n} group(s) SKIPPED: the ${behind.groups}-group run did not drain, so the cloud still holds ` +
          'its backlog',
      );
      continue;
    }
    alive();
    await bridge(n);
    const r = await relayRun(ctx, pairs.slice(0, n), perSender);
    runs.push(r);
    printRun(label, r, options);
    if (r.drain === 'cloud exited') {
      const how = await server.exited;
      const plain = server.output
        .toString()
        .split('\n')
        .filter((line) => line.trim() && !line.startsWith('{'));
      const fatal = plain.filter((line) => /fatal|heap|out of memory/i.test(line));
      const last = (fatal.length > 0 ? fatal : plain)
        .slice(-8)
        .map((line) => `             | ${line.slice(0, 300)}`);
      console.log(`  the cloud  exited with code ${how.code}, signal ${how.signal}; its last plain output:`);
      for (const line of last) console.log(line);
    }
    if (r.offered_fps >= GOALS.aggregateFps) {
      const ok = aggregateMet(r);
      console.log(
        `  goal       ≥ ${num(GOALS.aggregateFps)} frames/s aggregate with zero loss: ${metOrNot(ok)} ` +
          `(${num(r.delivered_fps)} frames/s, ${num(r.lost)} not delivered)${ok ? '' : `; at its limit: ${saturation(r)}`}`,
      );
    }
    if (n === 1) {
      const p50 = r.latency.p50_ms <= GOALS.p50Ms;
      const p99 = r.latency.p99_ms <= GOALS.p99Ms;
      console.log(
        `  goals      p50 ≤ ${GOALS.p50Ms} ms: ${metOrNot(p50)} (${fmt2(r.latency.p50_ms)}); ` +
          `p99 ≤ ${GOALS.p99Ms} ms: ${metOrNot(p99)} (${fmt2(r.latency.p99_ms)})` +
          (p50 && p99 ? '' : `; at its limit: ${saturation(r)}`),
      );
    }
  }

  const problems = standIns.flatMap((s) => s.problems);
  for (const p of new Set(problems))
    console.log(`problem:     ${problems.filter((x) => x === p).length} × ${p}`);
  const totalS = (performance.now() - runStarted) / 1000;
  console.log(`total:       ${fmt(totalS)} s (before cleanup)`);
  const one = runs.find((r) => r.groups === 1);
  const big = runs.filter((r) => r.offered_fps >= GOALS.aggregateFps);
  const relayed = [...runs, ...(sse ? [sse.relay] : [])];
  return {
    bench: 'relay',
    date,
    total_s: round1(totalS),
    ...machine,
    backend: options.backend,
    options,
    runs,
    skipped_runs: skipped,
    replay,
    sse,
    goals: {
      aggregate_500k_zero_loss: big.length === 0 ? null : big.some(aggregateMet),
      p50_1ms_one_group: one ? one.latency.p50_ms <= GOALS.p50Ms : null,
      p99_10ms_one_group: one ? one.latency.p99_ms <= GOALS.p99Ms : null,
    },
    integrity_errors:
      relayed.reduce((n, r) => n + integrityErrors(r), 0) + (replay && !replay.in_order ? 1 : 0),
    cloud_exited: relayed.some((r) => r.drain === 'cloud exited'),
    problems: problems.length,
  };
}

const aggregateMet = (r: RunResult) =>
  r.delivered_fps >= GOALS.aggregateFps && r.drain === 'complete' && r.lost === 0;

/**
 * Frames proven lost or reordered. Not counted: repeats (the protocol delivers at least
 * once and the node drops repeats by seq) and frames still on their way when a capped wait ended.
 */
const integrityErrors = (r: RunResult) =>
  r.gaps + r.out_of_sequence + r.malformed + r.epoch_changes + (r.drain === 'idle' ? r.lost : 0);

/**
 * Group 1 with side B's data connection closed until the group shows DEGRADED; side A sends `replay` frames;
 * B comes back once all of them are backlog (older than the relay's 1 s) and must get every one, in order.
 */
async function measureReplay(
  ctx: Ctx,
  p: Pair,
  bridge: (n: number) => Promise<void>,
  groupOf: (id: string) => Promise<{ group: { mode: string; buffer: { a_to_b: number } } }>,
) {
  const { options, stop } = ctx;
  await bridge(1);
  await sleep(2 * ACK_EVERY_MS);
  await p.b.closeData();
  const closedAt = performance.now();
  await waitUntil(
    'the group to show DEGRADED',
    async () => (await groupOf(p.id)).group.mode === 'degraded',
    30_000,
    stop,
  );
  const degradedS = (performance.now() - closedAt) / 1000;
  const latency = new Latency();
  p.a.resetRun(latency);
  p.b.resetRun(latency);
  const sending = await sendAll([p.a], options.rate, options.replay, options.batchMs, stop);
  let buffered = 0;
  await waitUntil(
    `${num(options.replay)} frames in the buffer`,
    async () => {
      buffered = (await groupOf(p.id)).group.buffer.a_to_b;
      return buffered >= options.replay;
    },
    30_000,
    stop,
  ).catch(() => {});
  await sleep(Math.max(0, sending.endedAt + 1500 - performance.now()));
  const reconnectAt = performance.now();
  await p.b.connectData();
  let activeAt = Number.NaN;
  const activePoll = (async () => {
    while (performance.now() - reconnectAt < 30_000 && !stop.aborted) {
      if ((await groupOf(p.id)).group.mode === 'active') {
        activeAt = performance.now();
        return;
      }
      await sleep(100);
    }
  })();
  await waitUntil('side B to be joined again', () => p.b.joined, 30_000, stop);
  const joinedAt = performance.now();
  const drained = await drain(ctx, [p]);
  p.b.ack();
  await activePoll;
  const t = p.b.tally;
  const rate = t.unique > 1 ? (t.unique - 1) / ((t.lastAt - t.firstAt) / 1000) : Number.NaN;
  const inOrder = t.unique === options.replay && t.gaps === 0 && t.outOfSeq === 0;
  const s3 = (ms: number) => Math.round(ms) / 1000;
  const result = {
    frames: options.replay,
    degraded_after_s: round1(degradedS),
    sent_fps: Math.round(options.replay / ((sending.endedAt - sending.startedAt) / 1000)),
    buffered_before_reconnect: buffered,
    received: t.unique,
    drain: drained,
    repeated: t.repeated,
    gaps: t.gaps,
    out_of_sequence: t.outOfSeq,
    malformed: t.malformed,
    in_order: inOrder,
    replay_fps: Math.round(rate),
    join_after_reconnect_s: s3(joinedAt - reconnectAt),
    first_frame_after_reconnect_s: s3(t.firstAt - reconnectAt),
    drained_after_reconnect_s: s3(t.lastAt - reconnectAt),
    active_again_after_s: s3(activeAt - reconnectAt),
  };
  console.log(
    `replay:      group 1, side B's /ws/data closed: DEGRADED after ${fmt(degradedS)} s; side A sent ` +
      `${num(options.replay)} frames at ${num(result.sent_fps)}/s; the group page showed ${num(buffered)} ` +
      'buffered a_to_b before B came back',
  );
  console.log(
    `             B reconnected ${fmt((reconnectAt - sending.endedAt) / 1000)} s after the last frame: group_join after ` +
      `${result.join_after_reconnect_s} s, first frame after ${result.first_frame_after_reconnect_s} s, ` +
      `${num(t.unique)} received ${result.drained_after_reconnect_s} s after the reconnect${DRAIN_WORDS[drained]}; ` +
      `replay rate ${num(rate)} frames/s (first to last frame; RELAY_REPLAY_RATE default 5,000/s); ` +
      `the group showed ACTIVE again ${result.active_again_after_s} s after the reconnect`,
  );
  console.log(
    `             order: ${inOrder ? 'every frame arrived, in order' : 'NOT every frame arrived in order'} ` +
      `(${num(t.repeated)} repeated and dropped by seq, ${num(t.gaps)} gaps, ${num(t.outOfSeq)} out of the sender's sequence, ` +
      `${num(options.replay - t.unique)} missing)`,
  );
  return result;
}

/**
 * `--sse` subscribers on group 1's console while group 1 relays at the full rate both ways. The subscribers run
 * in a child process of their own, so parsing their events does not hold up this process's relay receivers.
 */
async function measureConsole(
  ctx: Ctx,
  p: Pair,
  bridge: (n: number) => Promise<void>,
  cleanup: Cleanup,
  base: string,
  cookie: string,
) {
  const { options } = ctx;
  await bridge(1);
  let url = `${base}/api/v1/streams/groups/${p.id}/console`;
  let which = 'the group console (GET /api/v1/streams/groups/:id/console)';
  const probe = new Subscriber(new Latency());
  const status = await probe.open(url, cookie);
  probe.close();
  if (status === 404) {
    url = `${base}/api/v1/streams/dongles/${p.a.dongleId}/console`;
    which = "side A's dongle console (the group console answered 404)";
  } else check(status === 200, `the group console answered ${status}`);

  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, [CONSOLE_ROLE_ENV]: 'console' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanup.push({
    what: 'stop the console subscribers',
    run: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  });
  const reply = <T>(type: string, ms: number) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the console subscribers: no ${type} in ${ms / 1000} s`)),
        ms,
      );
      const onMessage = (m: { type: string; message?: string }) => {
        if (m.type !== type && m.type !== 'error') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        if (m.type === 'error') reject(new Error(`the console subscribers: ${m.message}`));
        else resolve(m as T);
      };
      child.on('message', onMessage);
      void exited.then(() => reject(new Error('the console subscribers exited')));
    });
  const opened = reply<{ type: 'opened' }>('opened', 60_000);
  child.send({ type: 'open', url, cookie, count: options.sse } satisfies ConsoleCommand);
  await opened;
  await sleep(500);
  // The console's sampler settles within its first one-second window: "steady" counts the frames after it.
  child.send({
    type: 'steady',
    fromMs: performance.timeOrigin + performance.now() + 1000,
  } satisfies ConsoleCommand);
  const r = await relayRun(ctx, [p], options.rate * options.seconds, child.pid);
  const childPct = r.cpu.helper_pct;
  const done = reply<ConsoleResult>('result', 30_000);
  child.send({ type: 'finish' } satisfies ConsoleCommand);
  const got = await done;
  const perSub = got.events.map((n) => n / options.seconds);
  const steady = got.steady.map((n) => n / Math.max(1, options.seconds - 1));
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const total = perSub.reduce((a, b) => a + b, 0);
  const result = {
    subscribers: options.sse,
    stream: which,
    events_per_s_per_subscriber: {
      mean: round1(mean(perSub)),
      min: round1(Math.min(...perSub)),
      max: round1(Math.max(...perSub)),
      steady_mean: round1(mean(steady)),
    },
    events_per_s_total: Math.round(total),
    one_in: got.oneIn,
    delay: got.delay,
    steady_delay: got.steadyDelay,
    ended_early: got.endedEarly,
    subscriber_process_cpu_pct: round1(childPct),
    relay: r,
  };
  console.log(
    `console:     ${options.sse} subscribers on ${which} while group 1 relays ${num(options.rate)} frames/s each ` +
      `way for ${options.seconds} s; the console showed 1 in ${got.oneIn} frames at the end (spec 002 §18.3 sampling)`,
  );
  console.log(
    `             can_frame events/s per subscriber: mean ${fmt(mean(perSub))}, min ${fmt(Math.min(...perSub))}, ` +
      `max ${fmt(Math.max(...perSub))} (after the first second: ${fmt(mean(steady))}); total ${num(total)} events/s; ` +
      `${got.endedEarly} subscriber(s) cut off by the cloud`,
  );
  console.log(
    `             delay frame ts → event arrival: p50 ${fmt2(got.delay.p50_ms)} ms, p99 ${fmt2(got.delay.p99_ms)} ms, ` +
      `max ${fmt2(got.delay.max_ms)} ms over ${num(got.delay.n)} events (the event's ts is in whole ms: up to 1 ms ` +
      `high); after the first second p50 ${fmt2(got.steadyDelay.p50_ms)} ms, p99 ${fmt2(got.steadyDelay.p99_ms)} ms; ` +
      `the subscribers' process used ${pct(childPct)} of one core`,
  );
  printRun('             the relay meanwhile', r, options);
  return result;
}

const CONSOLE_ROLE_ENV = 'CANOPY_BENCH_RELAY_ROLE';
type ConsoleCommand =
  | { type: 'open'; url: string; cookie: string; count: number }
  | { type: 'steady'; fromMs: number }
  | { type: 'finish' };
type ConsoleResult = {
  type: 'result';
  events: number[];
  steady: number[];
  oneIn: number;
  endedEarly: number;
  delay: ReturnType<Latency['summary']>;
  steadyDelay: ReturnType<Latency['summary']>;
};

/** The console subscribers' process (see measureConsole): told what to do over IPC. */
function consoleSubscribers(): void {
  const delays = new Latency();
  const steadyDelays = new Latency();
  let subs: Subscriber[] = [];
  const send = (m: object) => process.send?.(m);
  process.on('message', (m: ConsoleCommand) => {
    if (m.type === 'open') {
      subs = Array.from({ length: m.count }, () => new Subscriber(delays, steadyDelays));
      pool(subs, 20, async (s) => {
        const status = await s.open(m.url, m.cookie);
        check(status === 200, `a console subscriber got HTTP ${status}`);
      }).then(
        () => send({ type: 'opened' }),
        (err: Error) => send({ type: 'error', message: err.message }),
      );
    } else if (m.type === 'steady') {
      for (const s of subs) s.steadyFromMs = m.fromMs;
    } else {
      void (async () => {
        // The last events: until none came for a second (at most 10 s).
        const tailEnd = performance.now() + 10_000;
        while (performance.now() < tailEnd) {
          if (performance.now() - Math.max(...subs.map((s) => s.lastEventAt)) > 1000) break;
          await sleep(100);
        }
        for (const s of subs) s.close();
        const result: ConsoleResult = {
          type: 'result',
          events: subs.map((s) => s.canFrames),
          steady: subs.map((s) => s.steadyFrames),
          oneIn: Math.max(...subs.map((s) => s.oneIn)),
          endedEarly: subs.filter((s) => s.endedEarly).length,
          delay: delays.summary(),
          steadyDelay: steadyDelays.summary(),
        };
        send(result);
        process.disconnect?.();
      })();
    }
  });
}

if (process.env[CONSOLE_ROLE_ENV] === 'console') {
  consoleSubscribers();
} else {
  process.exit(
    await runBenchmark({
      name: 'relay',
      help: HELP,
      parse: parseOptions,
      run,
      limitMs: OVERALL_LIMIT_MS,
      exitCode: (s) => (s.integrity_errors > 0 || s.cloud_exited || s.problems > 0 ? 1 : 0),
      report: (s) => {
        console.log('summary:');
        for (const r of s.runs) {
          console.log(
            `  ${String(r.groups).padStart(3)} group(s): offered ${num(r.offered_fps)}/s, delivered ${num(r.delivered_fps)}/s ` +
              `(${r.ratio_to_offered} × offered, ${fmt(r.can_buses)} CAN buses), ${num(r.lost)} not delivered` +
              `${r.drain === 'complete' ? '' : ` (drain: ${r.drain})`}, ` +
              `p50 ${fmt2(r.latency.p50_ms)} / p99 ${fmt2(r.latency.p99_ms)} / max ${fmt2(r.latency.max_ms)} ms, ` +
              `cloud ${pct(r.cpu.cloud_pct)}, redis ${pct(r.cpu.redis_pct)}, bench ${pct(r.cpu.bench_pct)}, ` +
              `everything else ${pct(othersPct(r.cpu))}`,
          );
        }
        const g = s.goals;
        const word = (v: boolean | null) => (v === null ? 'not measured' : metOrNot(v));
        console.log(
          `goals:       ≥ 500,000 frames/s with zero loss: ${word(g.aggregate_500k_zero_loss)}; ` +
            `p50 ≤ 1 ms at one group: ${word(g.p50_1ms_one_group)}; p99 ≤ 10 ms at one group: ${word(g.p99_10ms_one_group)}`,
        );
        if (s.cloud_exited) console.log('FAILED: the cloud exited during a run (see above)');
        if (s.integrity_errors > 0)
          console.log(`FAILED: ${s.integrity_errors} frame(s) lost or out of order (see above)`);
        console.log(JSON.stringify(s));
      },
    }),
  );
}
