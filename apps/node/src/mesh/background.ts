import type { MeshService } from './service';

export const DISCOVERY_EVERY_MS = 60_000;
export const CLEANUP_EVERY_MS = 24 * 3600_000;
/** How often tokens' last_used_at and devices' last_seen_at reach the store. */
export const FLUSH_EVERY_MS = 5000;

/**
 * Spec 001 phase 12: ping every paired node each minute (status Available/Offline/Needs re-pairing), and once
 * a day archive devices offline for more than 90 days. Nothing is shown to the user; the timers never keep
 * the process alive.
 */
export function startBackground(
  service: MeshService,
  options: { discoveryMs?: number; cleanupMs?: number } = {},
): () => void {
  let running = false;
  const discover = async () => {
    if (running) return;
    running = true;
    try {
      await service.discover();
    } catch (err) {
      service.log.warn({ err }, 'device discovery failed');
    } finally {
      running = false;
    }
  };
  const cleanup = () => {
    try {
      service.cleanup();
    } catch (err) {
      service.log.warn({ err }, 'device cleanup failed');
    }
  };
  cleanup();
  void discover();
  const flush = () => {
    try {
      service.flushTouches();
    } catch (err) {
      service.log.warn({ err }, 'could not record when devices were last seen');
    }
  };
  const d = setInterval(discover, options.discoveryMs ?? DISCOVERY_EVERY_MS);
  const c = setInterval(cleanup, options.cleanupMs ?? CLEANUP_EVERY_MS);
  const f = setInterval(flush, FLUSH_EVERY_MS);
  for (const t of [d, c, f]) t.unref();
  return () => {
    for (const t of [d, c, f]) clearInterval(t);
    flush();
  };
}
