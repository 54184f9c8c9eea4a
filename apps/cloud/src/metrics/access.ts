import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const PROXY_HEADERS = ['x-forwarded-for', 'x-real-ip', 'forwarded'];

export type MetricsVerdict = 'allowed' | 'auth_required' | 'hidden';

/**
 * Who may read /metrics. With a token configured: whoever sends `Authorization: Bearer <token>`. Without:
 * only a scraper on this machine talking to the cloud directly; a request that came through a proxy (it
 * carries X-Forwarded-For, X-Real-IP or Forwarded) is refused even though the proxy connects from loopback.
 */
export function metricsAccess(req: IncomingMessage, token: string | undefined): MetricsVerdict {
  if (token) {
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b) ? 'allowed' : 'auth_required';
  }
  const direct = PROXY_HEADERS.every((h) => req.headers[h] === undefined);
  return direct && LOOPBACK.has(req.socket.remoteAddress ?? '') ? 'allowed' : 'hidden';
}
