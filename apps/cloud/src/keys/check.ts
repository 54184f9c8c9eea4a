import { asc, count, eq } from 'drizzle-orm';
import { ConfigError } from '../config';
import type { Db } from '../db/client';
import { dongleTokens } from '../db/schema';
import { KeyError } from './envelope';
import { KEY_FILE_PREFIX, KEYS_DOC, type Keyring } from './keyring';

/** How many dongle tokens each key version seals, lowest version first. */
export async function tokensByKeyVersion(db: Db): Promise<Array<{ version: number; tokens: number }>> {
  const rows = await db
    .select({ version: dongleTokens.keyVersion, tokens: count() })
    .from(dongleTokens)
    .groupBy(dongleTokens.keyVersion)
    .orderBy(dongleTokens.keyVersion);
  return rows.map((r) => ({ version: r.version, tokens: Number(r.tokens) }));
}

/** Tokens tried per version: one corrupt row must not stop the cloud, a wrong key must. */
const PROBES = 3;

/**
 * Start-up check, so that dongles do not silently stop working: every key version the stored tokens use must
 * be in the keyring, and be the key they were sealed with (a sample of them must open: a key file made afresh
 * beside a restored database, or a mistyped variable, has the right version number but the wrong bytes).
 * Throws a ConfigError (exit 2) naming each problem and how to fix it.
 */
export async function assertKeysForStoredTokens(db: Db, keyring: Keyring): Promise<void> {
  const inUse = await tokensByKeyVersion(db);
  const held = keyring.versions.map((v) => `V${v}`).join(', ');
  const problems: string[] = [];
  for (const { version, tokens } of inUse) {
    const what = `${tokens} dongle token${tokens === 1 ? ' is' : 's are'} encrypted with key version ${version}`;
    if (!keyring.has(version)) {
      problems.push(
        keyring.source.kind === 'env'
          ? `DONGLE_TOKEN_MASTER_KEY_V${version}: not set, but ${what} (keys set: ${held}). Set it to the key those tokens were sealed with (base64 of 32 bytes) and start again; see ${KEYS_DOC}`
          : `DONGLE_TOKEN_MASTER_KEY_V${version}: not set and no key file ${keyring.source.dir}/${KEY_FILE_PREFIX}${version}, but ${what} (keys held: ${held}). Set it to the key those tokens were sealed with (base64 of 32 bytes) and start again; see ${KEYS_DOC}`,
      );
      continue;
    }
    if (!(await someOpen(db, keyring, version))) {
      const source =
        keyring.source.kind === 'env'
          ? `DONGLE_TOKEN_MASTER_KEY_V${version}`
          : `DONGLE_TOKEN_MASTER_KEY_V${version}: not set, and the key file ${keyring.source.dir}/${KEY_FILE_PREFIX}${version}`;
      problems.push(
        `${source} does not open the stored tokens of key version ${version} (${what}; none of the first ${Math.min(tokens, PROBES)} opens): it is not the key they were sealed with. Set DONGLE_TOKEN_MASTER_KEY_V${version} to that key and start again; see ${KEYS_DOC}`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

async function someOpen(db: Db, keyring: Keyring, version: number): Promise<boolean> {
  const rows = await db
    .select()
    .from(dongleTokens)
    .where(eq(dongleTokens.keyVersion, version))
    .orderBy(asc(dongleTokens.id))
    .limit(PROBES);
  for (const row of rows) {
    try {
      keyring.open(row, { dongleId: row.dongleId, userId: row.userId, createdAt: row.createdAt }).fill(0);
      return true;
    } catch (err) {
      if (!(err instanceof KeyError)) throw err;
    }
  }
  return rows.length === 0;
}
