import type http from 'node:http';
import { z } from 'zod';
import type { Db } from '../db/client';
import type { Logger } from '../log';
import type { Keyring } from './keyring';
import { type RotationFailure, type RotationProgress, type RotationSummary, rotateKeys } from './rotate';

/** The request `canopy-cloud rotate-keys` sends a running server over its control socket. */
export const RotateKeysRequest = z.object({
  batch: z.number().int().min(1).max(10_000),
  dry_run: z.boolean().default(false),
});

/** One line of the answer (NDJSON), streamed as the run goes. */
export type RotateKeysLine =
  | { progress: RotationProgress }
  | { failure: RotationFailure }
  | { summary: RotationSummary }
  | { error: string; exit_code?: number };

/**
 * On the embedded database the running server owns the data folder, so it runs the rotation with its own
 * keyring and streams progress back. The client hanging up (Ctrl-C) stops the run after the current batch.
 */
export function rotateKeysCommand(deps: { db: Db; keyring: Keyring; log: Logger; now: () => Date }) {
  return async (body: unknown, res: http.ServerResponse, closed: AbortSignal): Promise<void> => {
    const input = RotateKeysRequest.safeParse(body);
    if (!input.success) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          message: input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const send = (line: RotateKeysLine) => {
      if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(line)}\n`);
    };
    try {
      const summary = await rotateKeys(deps.db, deps.keyring, {
        batchSize: input.data.batch,
        dryRun: input.data.dry_run,
        log: deps.log,
        now: deps.now,
        signal: closed,
        onProgress: (progress) => send({ progress }),
        onFailure: (failure) => send({ failure }),
      });
      send({ summary });
    } catch (err) {
      deps.log.error(
        { err: err instanceof Error ? err.message : String(err) },
        'keys.rotate via control socket failed',
      );
      send({
        error: err instanceof Error ? err.message : String(err),
        exit_code: (err as { problems?: unknown }).problems ? 2 : 1,
      });
    }
    res.end();
  };
}
