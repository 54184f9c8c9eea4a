import { Router } from 'express';
import { ApiError } from '../http/errors';
import { metricsAccess } from './access';
import { collectDomainMetrics, type MetricSources } from './collect';
import { CONTENT_TYPE, formatMetrics } from './exposition';
import type { HttpMetrics } from './http-metrics';

/** GET /metrics in the Prometheus text format; see access.ts for who may read it. */
export function metricsRoutes(deps: {
  http: HttpMetrics;
  sources: MetricSources;
  token: string | undefined;
}) {
  const router = Router();
  const startedAt = Date.now();
  router.get('/metrics', async (req, res, next) => {
    try {
      const verdict = metricsAccess(req, deps.token);
      if (verdict === 'hidden') throw new ApiError(404, 'NOT_FOUND', 'No route for GET /metrics');
      if (verdict === 'auth_required')
        throw new ApiError(
          401,
          'AUTH_REQUIRED',
          'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>',
          {},
          {
            'WWW-Authenticate': 'Bearer realm="metrics"',
          },
        );
      const families = [...deps.http.families(), ...(await collectDomainMetrics(deps.sources, startedAt))];
      res.set('Cache-Control', 'no-store').type(CONTENT_TYPE).send(formatMetrics(families));
    } catch (err) {
      next(err);
    }
  });
  return router;
}
