import type { RequestHandler } from 'express';
import type { Labels, MetricFamily, Sample } from './exposition';

/** Latency buckets in seconds, from a cached GET to a slow database write. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Distinct (method, route, status) series kept; later new ones are counted under route="other". */
const MAX_SERIES = 500;

const ID_SEGMENT =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9]+|[0-9a-f]{16,}|[A-Za-z0-9_-]{24,})$/i;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * A bounded label for a path: API paths with ids replaced by `:id`, WebSocket paths as they are, everything
 * else (the dashboard's files) as `web`. Query strings never reach a label.
 */
export function routeLabel(url: string): string {
  const path = url.split('?')[0] ?? '';
  if (path === '/healthz' || path === '/readyz' || path === '/metrics') return path;
  if (!path.startsWith('/api/') && !path.startsWith('/ws/')) return 'web';
  const segments = path.split('/').map((s) => (ID_SEGMENT.test(s) ? ':id' : s));
  return segments.slice(0, 8).join('/').slice(0, 120);
}

type Series = { labels: Labels; count: number };
type Latency = { labels: Labels; buckets: number[]; sum: number; count: number };

/** Request counts by method, route and status, and a latency histogram by method and route. */
export class HttpMetrics {
  private readonly requests = new Map<string, Series>();
  private readonly latency = new Map<string, Latency>();

  record(method: string, url: string, status: number, seconds: number | null): void {
    const m = METHODS.has(method) ? method : 'OTHER';
    let route = routeLabel(url);
    const key = `${m} ${route} ${status}`;
    if (!this.requests.has(key) && this.requests.size >= MAX_SERIES) route = 'other';
    const k = `${m} ${route} ${status}`;
    const series = this.requests.get(k) ?? { labels: { method: m, route, status: String(status) }, count: 0 };
    series.count += 1;
    this.requests.set(k, series);
    if (seconds === null) return;
    const lk = `${m} ${route}`;
    const lat = this.latency.get(lk) ?? {
      labels: { method: m, route },
      buckets: LATENCY_BUCKETS.map(() => 0),
      sum: 0,
      count: 0,
    };
    LATENCY_BUCKETS.forEach((le, i) => {
      if (seconds <= le) lat.buckets[i] = (lat.buckets[i] ?? 0) + 1;
    });
    lat.sum += seconds;
    lat.count += 1;
    this.latency.set(lk, lat);
  }

  /**
   * Counts every finished request; its latency too unless it was a stream (SSE: its duration is the
   * subscription's, not a response time).
   */
  middleware(): RequestHandler {
    return (req, res, next) => {
      const started = process.hrtime.bigint();
      const url = req.originalUrl;
      res.on('finish', () => {
        const streamed = String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.record(req.method, url, res.statusCode, streamed ? null : seconds);
      });
      next();
    };
  }

  families(): MetricFamily[] {
    const latency: Sample[] = [];
    for (const l of this.latency.values()) {
      LATENCY_BUCKETS.forEach((le, i) => {
        latency.push({
          suffix: '_bucket',
          labels: { ...l.labels, le: String(le) },
          value: l.buckets[i] ?? 0,
        });
      });
      latency.push({ suffix: '_bucket', labels: { ...l.labels, le: '+Inf' }, value: l.count });
      latency.push({ suffix: '_sum', labels: l.labels, value: l.sum });
      latency.push({ suffix: '_count', labels: l.labels, value: l.count });
    }
    return [
      {
        name: 'canopy_http_requests_total',
        help: 'HTTP requests answered, by method, route (ids replaced by :id) and status.',
        type: 'counter',
        samples: [...this.requests.values()].map((s) => ({ labels: s.labels, value: s.count })),
      },
      {
        name: 'canopy_http_request_duration_seconds',
        help: 'Time to answer an HTTP request (SSE streams excluded), by method and route.',
        type: 'histogram',
        samples: latency,
      },
    ];
  }
}
