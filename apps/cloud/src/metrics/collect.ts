import type { MetricFamily } from './exposition';

/** What the metrics read from the running domains; each read is a counter or a cheap lookup. */
export type MetricSources = {
  version: string;
  /** Nodes connected to this instance's control WebSocket (/ws/agent). */
  connectedNodes: () => number;
  /** The relay's own counters (src/relay/relay.ts `counters`). */
  relay: () => {
    up: number;
    down: number;
    dropped: number;
    trimmed: number;
    pauses: number;
    lost: number;
    connections: number;
    attachments: number;
  };
  /** The live console's reader loops and subscribers on this instance. */
  sse: () => { streams: number; subscribers: number };
  /** Buffered relay frames summed over the bridged groups (at most `limit` groups are asked). */
  bufferDepth: (
    limit: number,
  ) => Promise<{ a_to_b: number; b_to_a: number; groups: number; truncated: boolean }>;
};

/** At most this many groups are asked for their buffer at one scrape, and for at most this long. */
export const BUFFER_GROUPS_MAX = 1000;
export const BUFFER_TIMEOUT_MS = 2000;

const gauge = (name: string, help: string, value: number): MetricFamily => ({
  name,
  help,
  type: 'gauge',
  samples: [{ value }],
});
const counter = (name: string, help: string, value: number): MetricFamily => ({
  name,
  help,
  type: 'counter',
  samples: [{ value }],
});

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The domain gauges and counters at this moment; a failing buffer read is reported, not thrown. */
export async function collectDomainMetrics(
  sources: MetricSources,
  startedAt: number,
): Promise<MetricFamily[]> {
  const relay = sources.relay();
  const sse = sources.sse();
  const mem = process.memoryUsage();
  let buffer: Awaited<ReturnType<MetricSources['bufferDepth']>> | undefined;
  try {
    buffer = await withTimeout(sources.bufferDepth(BUFFER_GROUPS_MAX), BUFFER_TIMEOUT_MS);
  } catch {
    buffer = undefined;
  }
  const families: MetricFamily[] = [
    {
      name: 'canopy_build_info',
      help: 'The running canopy-cloud version.',
      type: 'gauge',
      samples: [{ labels: { version: sources.version }, value: 1 }],
    },
    gauge(
      'canopy_process_uptime_seconds',
      'Seconds since this process started serving.',
      (Date.now() - startedAt) / 1000,
    ),
    gauge('canopy_process_resident_memory_bytes', 'Resident set size of this process.', mem.rss),
    gauge('canopy_process_heap_used_bytes', 'V8 heap in use.', mem.heapUsed),
    gauge(
      'canopy_nodes_connected',
      'canopy-nodes connected to this instance (control WebSocket).',
      sources.connectedNodes(),
    ),
    gauge(
      'canopy_relay_connections',
      'Data-plane WebSockets (/ws/data) open on this instance.',
      relay.connections,
    ),
    gauge('canopy_relay_attachments', 'Group sides bridged through this instance.', relay.attachments),
    {
      name: 'canopy_relay_frames_total',
      help: 'CAN frames through the relay on this instance: in = received from nodes and buffered, out = written to nodes.',
      type: 'counter',
      samples: [
        { labels: { direction: 'in' }, value: relay.up },
        { labels: { direction: 'out' }, value: relay.down },
      ],
    },
    counter(
      'canopy_relay_frames_dropped_total',
      'Frames from a node for a side it does not bridge (dropped).',
      relay.dropped,
    ),
    counter(
      'canopy_relay_frames_trimmed_total',
      'Buffered frames trimmed by retention (audited).',
      relay.trimmed,
    ),
    counter(
      'canopy_relay_frames_lost_total',
      'Frames that could not be buffered (engine failures).',
      relay.lost,
    ),
    counter('canopy_relay_pauses_total', 'Times a node socket was paused for backpressure.', relay.pauses),
    gauge('canopy_sse_subscribers', 'Live-console SSE subscribers on this instance.', sse.subscribers),
    gauge('canopy_sse_streams', 'Live-console streams read by this instance.', sse.streams),
    gauge(
      'canopy_metrics_buffer_read_ok',
      '1 when the relay buffer depth below was read at this scrape, else 0.',
      buffer ? 1 : 0,
    ),
  ];
  if (buffer) {
    families.push(
      {
        name: 'canopy_relay_buffer_frames',
        help: 'Frames waiting in the relay buffer, summed over bridged groups, by direction.',
        type: 'gauge',
        samples: [
          { labels: { direction: 'a_to_b' }, value: buffer.a_to_b },
          { labels: { direction: 'b_to_a' }, value: buffer.b_to_a },
        ],
      },
      gauge(
        'canopy_relay_buffer_groups',
        'Bridged groups counted in canopy_relay_buffer_frames.',
        buffer.groups,
      ),
      gauge(
        'canopy_relay_buffer_truncated',
        `1 when there were more than ${BUFFER_GROUPS_MAX} bridged groups and only that many were counted.`,
        buffer.truncated ? 1 : 0,
      ),
    );
  }
  return families;
}
