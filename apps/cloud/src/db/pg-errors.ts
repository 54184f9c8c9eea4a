/** A PostgreSQL error's SQLSTATE and the constraint it names, as both drivers report them. */
export type PgError = { code: string; constraint?: string; detail?: string };

/** The PostgreSQL error inside `err` (Drizzle wraps the driver's error as `cause`), or null. */
export function pgErrorOf(err: unknown): PgError | null {
  let at: unknown = err;
  for (let depth = 0; depth < 5 && at && typeof at === 'object'; depth++) {
    const e = at as { code?: unknown; constraint?: unknown; detail?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
      return {
        code: e.code,
        constraint: typeof e.constraint === 'string' ? e.constraint : undefined,
        detail: typeof e.detail === 'string' ? e.detail : undefined,
      };
    }
    at = e.cause;
  }
  return null;
}

export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';
export const CHECK_VIOLATION = '23514';
