import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './backends';
import { startTestCloud, type TestCloud } from './harness';

// GET /metrics on a real cloud with METRICS_TOKEN set (the loopback-only default is in ops-nginx.test.ts).
const TOKEN = 'metrics-token-for-the-test-0123456789';

describe.each(await backends())('/metrics with METRICS_TOKEN on $name', (backend) => {
  let cloud: TestCloud;
  beforeAll(async () => {
    cloud = await startTestCloud(backend, { METRICS_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it('asks for the bearer token, even on loopback', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer not-the-token' },
      { authorization: `Basic ${TOKEN}` },
    ];
    for (const headers of attempts) {
      const res = await fetch(`${cloud.baseUrl}/metrics`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.json()).toEqual({ code: 'AUTH_REQUIRED', message: expect.any(String), details: {} });
    }
  });

  it('answers the token from anywhere (here: through a proxy), in the Prometheus text format', async () => {
    await fetch(`${cloud.baseUrl}/api/v1/auth/csrf`);
    const res = await fetch(`${cloud.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}`, 'x-forwarded-for': '203.0.113.7' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    expect(text).toMatch(
      /^canopy_http_requests_total\{method="GET",route="\/api\/v1\/auth\/csrf",status="200"\} 1$/m,
    );
    expect(text).toMatch(
      /^canopy_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/auth\/csrf"\} 1$/m,
    );
    expect(text).toMatch(/^canopy_nodes_connected 0$/m);
    expect(text).toMatch(/^canopy_relay_frames_total\{direction="in"\} 0$/m);
    expect(text).toMatch(/^canopy_relay_buffer_frames\{direction="a_to_b"\} 0$/m);
    expect(text).toMatch(/^canopy_metrics_buffer_read_ok 1$/m);
    expect(text).toMatch(/^canopy_sse_subscribers 0$/m);
    // Every sample line is `name{labels} value`; every family has HELP and TYPE.
    for (const line of text.trimEnd().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[^}]*\})? [-+0-9.eInfa]+)$/);
    }
  });

  it('never logs the token', () => {
    expect(cloud.logs.text()).not.toContain(TOKEN);
  });
});
