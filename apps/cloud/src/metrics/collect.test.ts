import { describe, expect, it } from 'vitest';
import { BUFFER_GROUPS_MAX, collectDomainMetrics, type MetricSources } from './collect';
import { formatMetrics } from './exposition';

const sources = (over: Partial<MetricSources> = {}): MetricSources => ({
  version: '1.2.3',
  connectedNodes: () => 4,
  relay: () => ({
    up: 100,
    down: 90,
    dropped: 1,
    trimmed: 2,
    pauses: 3,
    lost: 0,
    connections: 2,
    attachments: 3,
  }),
  sse: () => ({ streams: 1, subscribers: 5 }),
  bufferDepth: async () => ({ a_to_b: 7, b_to_a: 8, groups: 2, truncated: false }),
  ...over,
});

describe('collectDomainMetrics', () => {
  it('reads the relay, the nodes, the live console and the buffer into named series', async () => {
    const text = formatMetrics(await collectDomainMetrics(sources(), Date.now() - 5000));
    for (const line of [
      'canopy_build_info{version="1.2.3"} 1',
      'canopy_nodes_connected 4',
      'canopy_relay_frames_total{direction="in"} 100',
      'canopy_relay_frames_total{direction="out"} 90',
      'canopy_relay_frames_dropped_total 1',
      'canopy_relay_frames_trimmed_total 2',
      'canopy_relay_pauses_total 3',
      'canopy_relay_frames_lost_total 0',
      'canopy_relay_connections 2',
      'canopy_relay_attachments 3',
      'canopy_sse_subscribers 5',
      'canopy_sse_streams 1',
      'canopy_relay_buffer_frames{direction="a_to_b"} 7',
      'canopy_relay_buffer_frames{direction="b_to_a"} 8',
      'canopy_relay_buffer_groups 2',
      'canopy_relay_buffer_truncated 0',
      'canopy_metrics_buffer_read_ok 1',
    ])
      expect(text).toContain(`\n${line}\n`);
    expect(Number(/^canopy_process_uptime_seconds (\S+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(5);
  });

  it('asks for at most BUFFER_GROUPS_MAX groups', async () => {
    let asked = 0;
    await collectDomainMetrics(
      sources({
        bufferDepth: async (limit) => {
          asked = limit;
          return { a_to_b: 0, b_to_a: 0, groups: limit, truncated: true };
        },
      }),
      Date.now(),
    );
    expect(asked).toBe(BUFFER_GROUPS_MAX);
  });

  it('reports a failing buffer read instead of failing the scrape', async () => {
    const text = formatMetrics(
      await collectDomainMetrics(
        sources({ bufferDepth: () => Promise.reject(new Error('redis down')) }),
        Date.now(),
      ),
    );
    expect(text).toContain('\ncanopy_metrics_buffer_read_ok 0\n');
    expect(text).not.toContain('canopy_relay_buffer_frames');
    expect(text).toContain('\ncanopy_nodes_connected 4\n');
  });
});
