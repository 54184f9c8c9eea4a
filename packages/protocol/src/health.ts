import { z } from 'zod';

export const HealthCheck = z.object({
  kind: z.string(),
  ok: z.boolean(),
  latency_ms: z.number(),
  error: z.string().optional(),
});

export const HealthResponse = z.object({
  status: z.enum(['ok', 'unhealthy']),
  version: z.string(),
  uptime_s: z.number(),
  checks: z.object({ database: HealthCheck, stream_engine: HealthCheck }),
  /** Names the failing parts when status is unhealthy. */
  failing: z.array(z.string()),
});
export type HealthResponse = z.infer<typeof HealthResponse>;
