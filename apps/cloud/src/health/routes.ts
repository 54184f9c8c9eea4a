import type { HealthResponse } from '@canopy/protocol';
import { Router } from 'express';
import type { Database } from '../db/client';
import type { StreamEngine } from '../engine';
import { VERSION } from '../version';

const CHECK_TIMEOUT_MS = 2000;

async function timed(check: () => Promise<void>) {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { ok: true, latency_ms: Math.round(performance.now() - started) };
  } catch (err) {
    return {
      ok: false,
      latency_ms: Math.round(performance.now() - started),
      error: err instanceof Error ? err.message : String(err),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * /healthz: is each dependency answering (503 naming the failing parts). /readyz: should a load balancer
 * send traffic here (started, migrated, not shutting down).
 */
export function healthRoutes(database: Database, engine: StreamEngine, state: { ready: boolean }) {
  const router = Router();
  const startedAt = Date.now();

  router.get('/healthz', async (_req, res) => {
    const [db, streams] = await Promise.all([timed(() => database.ping()), timed(() => engine.ping())]);
    const failing = [...(db.ok ? [] : ['database']), ...(streams.ok ? [] : ['stream_engine'])];
    const body: HealthResponse = {
      status: failing.length === 0 ? 'ok' : 'unhealthy',
      version: VERSION,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      checks: {
        database: { kind: database.kind, ...db },
        stream_engine: { kind: engine.kind, ...streams },
      },
      failing,
    };
    res
      .set('Cache-Control', 'no-store')
      .status(failing.length === 0 ? 200 : 503)
      .json(body);
  });

  router.get('/readyz', (_req, res) => {
    res
      .set('Cache-Control', 'no-store')
      .status(state.ready ? 200 : 503)
      .json({ ready: state.ready });
  });

  return router;
}
