import { and, eq, or } from 'drizzle-orm';
import type { Db } from '../db/client';
import { pairingSessions } from '../db/schema';

/** Ends a dongle's pairings that are still open or being checked (a hold, an unpair). */
export async function endOpenPairings(tx: Db, dongleId: string, at: Date): Promise<void> {
  await tx
    .update(pairingSessions)
    .set({ state: 'failed', finishedAt: at })
    .where(
      and(
        eq(pairingSessions.dongleId, dongleId),
        or(eq(pairingSessions.state, 'open'), eq(pairingSessions.state, 'submitting')),
      ),
    );
}
