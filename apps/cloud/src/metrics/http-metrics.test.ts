import { describe, expect, it } from 'vitest';
import { formatMetrics } from './exposition';
import { HttpMetrics, LATENCY_BUCKETS, routeLabel } from './http-metrics';

describe('routeLabel', () => {
  it('replaces ids in API paths and drops the query string', () => {
    expect(routeLabel('/api/v1/dongles/0b7c4f1e-3b1a-4c1e-9d3e-2f6a8b9c0d1e/pair?x=1')).toBe(
      '/api/v1/dongles/:id/pair',
    );
    expect(routeLabel('/api/v1/admin/audit/123')).toBe('/api/v1/admin/audit/:id');
    expect(routeLabel('/api/v1/agents/abcdefabcdefabcdef01')).toBe('/api/v1/agents/:id');
  });

  it('keeps health, metrics and WebSocket paths, and folds the dashboard into `web`', () => {
    expect(routeLabel('/healthz')).toBe('/healthz');
    expect(routeLabel('/metrics')).toBe('/metrics');
    expect(routeLabel('/ws/agent?x')).toBe('/ws/agent');
    expect(routeLabel('/assets/index-3f2a.js')).toBe('web');
    expect(routeLabel('/groups/some-id')).toBe('web');
  });
});

describe('HttpMetrics', () => {
  it('counts by method, route and status, with a cumulative latency histogram', () => {
    const m = new HttpMetrics();
    m.record('GET', '/api/v1/auth/me', 200, 0.003);
    m.record('GET', '/api/v1/auth/me', 200, 0.2);
    m.record('GET', '/api/v1/auth/me', 401, 0.001);
    m.record('GET', '/api/v1/streams/dongle/1', 200, null);
    const text = formatMetrics(m.families());
    expect(text).toContain('canopy_http_requests_total{method="GET",route="/api/v1/auth/me",status="200"} 2');
    expect(text).toContain('canopy_http_requests_total{method="GET",route="/api/v1/auth/me",status="401"} 1');
    expect(text).toContain(
      'canopy_http_requests_total{method="GET",route="/api/v1/streams/dongle/:id",status="200"} 1',
    );
    const bucket = (le: string) =>
      Number(
        new RegExp(
          `canopy_http_request_duration_seconds_bucket\\{method="GET",route="/api/v1/auth/me",le="${le.replace('+', '\\+')}"\\} (\\d+)`,
        ).exec(text)?.[1],
      );
    expect(bucket('0.005')).toBe(2);
    expect(bucket('0.1')).toBe(2);
    expect(bucket('0.25')).toBe(3);
    expect(bucket('+Inf')).toBe(3);
    expect(text).toContain(
      'canopy_http_request_duration_seconds_count{method="GET",route="/api/v1/auth/me"} 3',
    );
    // A stream is counted but has no latency series.
    expect(text).not.toContain('duration_seconds_count{method="GET",route="/api/v1/streams/dongle/:id"}');
    expect(LATENCY_BUCKETS.length).toBeGreaterThan(5);
  });

  it('keeps the number of series bounded: new routes past the limit count as `other`', () => {
    const m = new HttpMetrics();
    for (let i = 0; i < 700; i++) m.record('GET', `/api/v1/thing${i}`, 200, 0.001);
    m.record('BREW', '/api/v1/thing1', 200, 0.001);
    const [requests] = m.families();
    expect(requests?.samples.length).toBeLessThanOrEqual(502);
    expect(requests?.samples.find((s) => s.labels?.route === 'other')?.value).toBeGreaterThan(0);
    expect(requests?.samples.some((s) => s.labels?.method === 'OTHER')).toBe(true);
  });
});
