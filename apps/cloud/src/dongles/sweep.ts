import { and, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { commands, pairingSessions } from '../db/schema';

/** A command is given this long past its own timeout before the sweep calls it lost. */
export const COMMAND_GRACE_MS = 60_000;

/**
 * Housekeeping of work that lives across requests: a command whose answer never came (the cloud restarted
 * while it ran, or its node went away) ends as `error` instead of `running` forever; a pairing past its time
 * ends as `expired` (a PIN check cut short included).
 */
export async function sweepDongleWork(db: Db, now: Date): Promise<{ commands: number; pairings: number }> {
  const lost = await db
    .update(commands)
    .set({
      status: 'error',
      error: 'No answer came: the cloud restarted or the node went away',
      finishedAt: now,
    })
    .where(
      and(
        inArray(commands.status, ['queued', 'running']),
        lt(
          sql`${commands.createdAt} + make_interval(secs => (${commands.timeoutMs} + ${COMMAND_GRACE_MS}) / 1000.0)`,
          now,
        ),
      ),
    )
    .returning({ id: commands.id });
  const expired = await db
    .update(pairingSessions)
    .set({ state: 'expired', finishedAt: now })
    .where(and(inArray(pairingSessions.state, ['open', 'submitting']), lt(pairingSessions.expiresAt, now)))
    .returning({ id: pairingSessions.id });
  return { commands: lost.length, pairings: expired.length };
}
