import { and, asc, eq, gt, lt } from 'drizzle-orm';
import { writeAudit } from '../audit/writer';
import { ConfigError } from '../config';
import type { Db } from '../db/client';
import { dongleTokens } from '../db/schema';
import type { Logger } from '../log';
import { tokensByKeyVersion } from './check';
import { KeyError, type KeyErrorCode } from './envelope';
import type { Keyring } from './keyring';

export type RotationFailure = { id: string; keyVersion: number; code: KeyErrorCode };

export type RotationProgress = { batch: number; rotated: number; failed: number; total: number };

export type RotationSummary = {
  dryRun: boolean;
  toVersion: number;
  /** Tokens below the newest version when the run began, per version; `keyHeld` false: they cannot be opened. */
  fromVersions: Array<{ version: number; tokens: number; keyHeld: boolean }>;
  total: number;
  rotated: number;
  failed: RotationFailure[];
  /** Tokens still below the newest version when the run ended (the failed ones among them). */
  remaining: number;
  batches: number;
  /** Stopped early (Ctrl-C): rerunning picks up the rest. */
  interrupted: boolean;
};

export type RotationOptions = {
  batchSize: number;
  dryRun?: boolean;
  log: Logger;
  now?: () => Date;
  /** Aborting stops the run after the batch in progress; nothing is left half-done. */
  signal?: AbortSignal;
  onProgress?: (progress: RotationProgress) => void;
  onFailure?: (failure: RotationFailure) => void;
};

/**
 * Re-encrypts every dongle token sealed with an older key version under the newest one (spec 002 §20.4).
 * Batches of `batchSize` rows in id order, each in its own transaction with the rows locked, so the run can be
 * stopped at any point and run again: it only ever looks at rows still on an older version. A row that does
 * not open is reported and left as it is; the others go on. One audit record per run (not for a dry run).
 */
export async function rotateKeys(
  db: Db,
  keyring: Keyring,
  options: RotationOptions,
): Promise<RotationSummary> {
  const { log, batchSize } = options;
  const now = options.now ?? (() => new Date());
  const toVersion = keyring.newest.version;
  const inUse = await tokensByKeyVersion(db);
  const newer = inUse.filter((v) => v.version > toVersion);
  if (newer.length > 0) {
    // This process lacks a key the server has: "rotating" now would move tokens back to an older key.
    throw new ConfigError(
      newer.map(
        (v) =>
          `DONGLE_TOKEN_MASTER_KEY_V${v.version}: not set here, but ${v.tokens} dongle token(s) use key version ${v.version}, newer than this keyring's newest (V${toVersion}); run rotate-keys with the same keys as the server`,
      ),
    );
  }
  const fromVersions = inUse
    .filter((v) => v.version < toVersion)
    .map((v) => ({ ...v, keyHeld: keyring.has(v.version) }));
  const total = fromVersions.reduce((sum, v) => sum + v.tokens, 0);
  const summary: RotationSummary = {
    dryRun: options.dryRun === true,
    toVersion,
    fromVersions,
    total,
    rotated: 0,
    failed: [],
    remaining: total,
    batches: 0,
    interrupted: false,
  };
  if (summary.dryRun || total === 0) {
    log.info(
      { to_version: toVersion, from_versions: fromVersions, total, dry_run: summary.dryRun },
      'keys.rotate: nothing to do or dry run',
    );
    if (!summary.dryRun) await audit(db, summary, log);
    return summary;
  }

  log.info(
    { to_version: toVersion, from_versions: fromVersions, total, batch_size: batchSize },
    'keys.rotate: start',
  );
  let error: unknown;
  try {
    let after: string | undefined;
    for (;;) {
      if (options.signal?.aborted) {
        summary.interrupted = true;
        break;
      }
      const batch = await db.transaction(async (tx) => {
        const rows = await tx
          .select()
          .from(dongleTokens)
          .where(and(lt(dongleTokens.keyVersion, toVersion), after ? gt(dongleTokens.id, after) : undefined))
          .orderBy(asc(dongleTokens.id))
          .limit(batchSize)
          .for('update');
        let rotated = 0;
        const failed: RotationFailure[] = [];
        const rotatedAt = now();
        for (const row of rows) {
          const aad = { dongleId: row.dongleId, userId: row.userId, createdAt: row.createdAt };
          let plaintext: Buffer;
          try {
            plaintext = keyring.open(row, aad);
          } catch (err) {
            if (!(err instanceof KeyError)) throw err;
            failed.push({ id: row.id, keyVersion: row.keyVersion, code: err.code });
            continue;
          }
          const sealed = keyring.seal(plaintext, aad);
          plaintext.fill(0);
          await tx
            .update(dongleTokens)
            .set({ ...sealed, rotatedAt })
            .where(and(eq(dongleTokens.id, row.id), eq(dongleTokens.keyVersion, row.keyVersion)));
          rotated++;
        }
        return { rows: rows.length, lastId: rows.at(-1)?.id, rotated, failed };
      });
      if (batch.rows === 0) break;
      after = batch.lastId;
      summary.batches++;
      summary.rotated += batch.rotated;
      summary.failed.push(...batch.failed);
      for (const failure of batch.failed) {
        log.warn(
          { token_id: failure.id, key_version: failure.keyVersion, code: failure.code },
          'keys.rotate: a dongle token could not be re-encrypted; left on its old key',
        );
        options.onFailure?.(failure);
      }
      log.info(
        {
          batch: summary.batches,
          rows: batch.rows,
          rotated: summary.rotated,
          failed: summary.failed.length,
          total,
          to_version: toVersion,
        },
        'keys.rotate: batch committed',
      );
      options.onProgress?.({
        batch: summary.batches,
        rotated: summary.rotated,
        failed: summary.failed.length,
        total,
      });
      if (batch.rows < batchSize) break;
      // PGlite answers through microtasks only: without a turn of the event loop, a Ctrl-C (or, inside the
      // server, every request) would wait for the whole run.
      await new Promise((resolve) => setImmediate(resolve));
    }
    summary.remaining = (await tokensByKeyVersion(db))
      .filter((v) => v.version < toVersion)
      .reduce((sum, v) => sum + v.tokens, 0);
  } catch (err) {
    // Drizzle's query errors quote the parameters, which here include sealed token bytes: keep the cause only.
    error = new Error(`rotation stopped: ${causeOf(err)}`);
    summary.remaining = total - summary.rotated;
  }
  await audit(db, summary, log, error);
  if (error) throw error;
  log.info(
    {
      to_version: toVersion,
      rotated: summary.rotated,
      failed: summary.failed.length,
      remaining: summary.remaining,
      interrupted: summary.interrupted,
    },
    'keys.rotate: done',
  );
  return summary;
}

const causeOf = (err: unknown): string => {
  const e = err as { message?: string; cause?: { message?: string } };
  return e?.cause?.message ?? e?.message ?? String(err);
};

const AUDITED_FAILURE_IDS = 100;

async function audit(db: Db, summary: RotationSummary, log: Logger, error?: unknown): Promise<void> {
  try {
    await writeAudit(
      db,
      { actorUserId: null, ip: null, userAgent: 'canopy-cloud rotate-keys' },
      {
        action: 'keys.rotated',
        targetType: 'dongle_tokens',
        details: {
          from_versions: summary.fromVersions.map((v) => v.version),
          to_version: summary.toVersion,
          count: summary.rotated,
          failed: summary.failed.length,
          failed_ids: summary.failed.slice(0, AUDITED_FAILURE_IDS).map((f) => f.id),
          remaining: summary.remaining,
          interrupted: summary.interrupted,
          ...(error ? { error: causeOf(error) } : {}),
        },
      },
    );
  } catch (err) {
    log.error({ err }, 'keys.rotate: could not write the audit record');
  }
}
