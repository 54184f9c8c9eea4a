// CAN traffic through a simulated dongle at bus rate: `node --import tsx bench/sim-traffic.ts --help`.
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { RempClient } from '../apps/node/src/bridge/remp-client';
import { startSim } from '../tools/dongle-sim/test/harness';
import { intOption, printMachine, round1, runBenchmark } from './common';

const HELP = `Usage: node --import tsx bench/sim-traffic.ts [options]   (or: npm run bench:sim-traffic -- [options])

Starts canopy-dongle-sim (built: npm run build) with one dongle on loopback, pairs with it through canopy-node's
REMP client (PIN from the simulator's control interface), then measures both directions over real UDP:
  dongle → node: the simulator's traffic generator sends counter frames at --rate; the node's REMP socket
                 receives them and checks each frame's sequence;
  node → dongle: the node's REMP socket sends counter frames at --rate; the dongle's sink checks them.
Prints achieved rates, loss, reordering and duplicates, and the ratio to the line rate of a 1 Mbit/s CAN bus
(≈ 9,000 frames/s of 8-byte standard frames). Exits 1 when a frame is lost or out of order.

  --rate N      frames/s each way, one direction at a time (default 9000, max 9000: the simulator's cap)
  --seconds N   seconds per direction (default 10, max 60)
`;

/** 8-byte standard data frames on a 1 Mbit/s bus, with worst-case bit stuffing: about 111 bits each. */
const LINE_RATE = 9000;

type Options = { rate: number; seconds: number };
type Direction = {
  planned: number;
  received: number;
  lost: number;
  out_of_order: number;
  duplicates: number;
  sender_rate: number;
  receiver_rate: number;
  ratio_to_line_rate: number;
};

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: { rate: { type: 'string' }, seconds: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) return undefined;
  return {
    rate: intOption(values.rate, 'rate', 9000, 9000),
    seconds: intOption(values.seconds, 'seconds', 10, 60),
  };
}

async function run(options: Options, cleanup: Array<{ what: string; run: () => Promise<void> }>) {
  console.log(`simulated CAN traffic benchmark (bench/sim-traffic.ts), ${new Date().toISOString()}`);
  printMachine();
  const sim = await startSim([
    '--count',
    '1',
    '--discovery-port',
    String(randomInt(40_000, 50_000)),
    '--remp-port-base',
    '0',
    '--quiet',
    '--seed',
    randomBytes(4).toString('hex'),
  ]);
  cleanup.push({ what: 'stop the simulator', run: async () => void (await sim.stop()) });
  const dongle = sim.dongles[0];
  if (!dongle) throw new Error('the simulator listed no dongle');
  const target = { address: '127.0.0.1', port: dongle.port };

  // dongle → node: frames the node's REMP socket receives, by sequence.
  let received = 0;
  let lastSeq = -1;
  let outOfOrder = 0;
  let duplicates = 0;
  const seen = new Set<number>();
  let firstAt = 0;
  let lastAt = 0;
  const remp = new RempClient({
    log: pino({ level: 'silent' }),
    onMalformed: () => undefined,
    onFrame: (_from, _header, frame) => {
      if (frame.data.length < 4) return;
      const seq = new DataView(frame.data.buffer, frame.data.byteOffset).getUint32(0);
      const now = performance.now();
      if (received === 0) firstAt = now;
      lastAt = now;
      received++;
      if (seen.has(seq)) duplicates++;
      seen.add(seq);
      if (seq < lastSeq) outOfOrder++;
      lastSeq = Math.max(lastSeq, seq);
    },
  });
  await remp.open();
  cleanup.push({ what: 'close the REMP socket', run: async () => remp.close() });

  const token = randomBytes(32);
  const header = (t: Uint8Array) => ({ deviceId: dongle.deviceId, token: t });
  const started = await remp.request(
    target,
    remp.message(header(new Uint8Array(0)), {
      type: 'pairing',
      pairing: { action: 'start', corrId: randomUUID(), seconds: 0 },
    }),
  );
  if (started.type !== 'pairing' || started.pairing.action !== 'ack' || !started.pairing.pairingNonce) {
    throw new Error('PAIRING_MODE_START was not acknowledged with a nonce');
  }
  const pin = ((await sim.api('GET', `/dongles/${dongle.deviceId}`)).body as { pairing: { pin: string } })
    .pairing.pin;
  await remp.request(
    target,
    remp.message(header(new Uint8Array(0)), {
      type: 'pairing',
      pairing: {
        action: 'submit',
        corrId: randomUUID(),
        seconds: 0,
        pin,
        pairingNonce: started.pairing.pairingNonce,
        token,
      },
    }),
  );
  // The node is now the dongle's remote (the sender of the last authenticated message).
  await remp.command(target, header(token), randomUUID(), 'time status');

  const planned = options.rate * options.seconds;
  console.log(`dongle → node: ${planned} frames at ${options.rate}/s …`);
  const plan = await sim.api('POST', `/dongles/${dongle.deviceId}/traffic`, {
    rate: options.rate,
    ids: [0x100],
    count: planned,
  });
  if (plan.status !== 200) throw new Error(`the traffic generator refused: ${JSON.stringify(plan.body)}`);
  let traffic = (await sim.api('GET', `/dongles/${dongle.deviceId}/traffic`)).body as {
    running: boolean;
    achieved_rate: number;
  };
  while (traffic.running) {
    await new Promise((r) => setTimeout(r, 250));
    traffic = (await sim.api('GET', `/dongles/${dongle.deviceId}/traffic`)).body as typeof traffic;
  }
  await new Promise((r) => setTimeout(r, 500)); // the last datagrams in flight
  const down: Direction = {
    planned,
    received,
    lost: planned - seen.size,
    out_of_order: outOfOrder,
    duplicates,
    sender_rate: Math.round(traffic.achieved_rate),
    receiver_rate: Math.round(received / Math.max(0.001, (lastAt - firstAt) / 1000)),
    ratio_to_line_rate:
      Math.round((received / Math.max(0.001, (lastAt - firstAt) / 1000) / LINE_RATE) * 1000) / 1000,
  };

  // node → dongle: paced in 5 ms ticks, the frames owed so far each tick.
  console.log(`node → dongle: ${planned} frames at ${options.rate}/s …`);
  await sim.api('DELETE', `/dongles/${dongle.deviceId}/sink`);
  const sendStart = performance.now();
  let sent = 0;
  const data = new Uint8Array(8);
  const view = new DataView(data.buffer);
  while (sent < planned) {
    const owed = Math.min(planned, Math.floor(((performance.now() - sendStart) / 1000) * options.rate));
    for (; sent < owed; sent++) {
      view.setUint32(0, sent);
      void remp.send(
        target,
        remp.message(header(token), {
          type: 'can_frame',
          frame: { id: 0x200, extended: false, flags: 0, data: data.slice() },
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const sendSeconds = (performance.now() - sendStart) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  const sink = (await sim.api('GET', `/dongles/${dongle.deviceId}/sink`)).body as {
    frames: number;
    missing: number;
    duplicates: number;
    out_of_order: number;
    first_at: number | null;
    last_at: number | null;
  };
  const sinkSeconds =
    sink.first_at !== null && sink.last_at !== null ? (sink.last_at - sink.first_at) / 1000 : 0;
  const up: Direction = {
    planned,
    received: sink.frames,
    lost: planned - sink.frames + sink.duplicates,
    out_of_order: sink.out_of_order,
    duplicates: sink.duplicates,
    sender_rate: Math.round(planned / sendSeconds),
    receiver_rate: Math.round(sink.frames / Math.max(0.001, sinkSeconds)),
    ratio_to_line_rate: Math.round((sink.frames / Math.max(0.001, sinkSeconds) / LINE_RATE) * 1000) / 1000,
  };
  return {
    bench: 'sim-traffic',
    rate: options.rate,
    seconds: options.seconds,
    line_rate: LINE_RATE,
    dongle_to_node: down,
    node_to_dongle: up,
    send_seconds: round1(sendSeconds),
  };
}

process.exit(
  await runBenchmark({
    name: 'sim-traffic',
    help: HELP,
    parse: parseOptions,
    run: (options, cleanup) => run(options, cleanup),
    exitCode: (s) =>
      s.dongle_to_node.lost +
        s.dongle_to_node.out_of_order +
        s.node_to_dongle.lost +
        s.node_to_dongle.out_of_order >
      0
        ? 1
        : 0,
    report: (s) => {
      for (const [name, d] of [
        ['dongle → node', s.dongle_to_node],
        ['node → dongle', s.node_to_dongle],
      ] as const) {
        console.log(
          `${name}: ${d.received}/${d.planned} frames, lost ${d.lost}, out of order ${d.out_of_order}, duplicates ` +
            `${d.duplicates}; sent at ${d.sender_rate}/s, received at ${d.receiver_rate}/s = ` +
            `${d.ratio_to_line_rate} × the line rate of a 1 Mbit/s bus (${s.line_rate}/s)`,
        );
      }
      console.log(JSON.stringify(s));
    },
  }),
);
