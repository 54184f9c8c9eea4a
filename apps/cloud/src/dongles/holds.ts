import type { DongleReport } from '@canopy/protocol';
import { eq, inArray } from 'drizzle-orm';
import { type AuditActor, writeAudit } from '../audit/writer';
import type { Db } from '../db/client';
import { dongles } from '../db/schema';
import type { StreamEngine } from '../engine';
import type { Logger } from '../log';
import { endOpenPairings } from './pairing-sessions';

/*
 * SECURITY_HOLD (spec 002 §11.3). The triggers that pairing itself sees (wrong PINs, too many starts) live in
 * pairing.ts; this file has the hold and the two triggers seen elsewhere:
 *   3b. a dongle's token handed to more than MAX_TOKEN_AGENTS_PER_HOUR distinct nodes within an hour;
 *   4.  more than MAX_AUTH_FAILURES_PER_MINUTE rejected tokens a minute from one LAN address, as the dongle
 *       announces it (discovery TLV 0x09, docs/remp.md).
 * A hold ends only through a super_admin (force-unpair or clear-hold).
 */

/** spec 002 §11.3 trigger 3: the token of one dongle used from more distinct nodes than this in an hour. */
export const MAX_TOKEN_AGENTS_PER_HOUR = 3;
/** spec 002 §11.3 trigger 4: rejected tokens a minute from one LAN address. */
export const MAX_AUTH_FAILURES_PER_MINUTE = 20;
const HOUR_MS = 3600_000;

type DongleRow = typeof dongles.$inferSelect;

/** The audit actor of a hold the system decides on its own (no person asked for it). */
export const SYSTEM_ACTOR: AuditActor = { actorUserId: null, ip: null, userAgent: 'canopy-cloud' };

export type HoldDeps = { db: Db; engine: StreamEngine; log: Logger; now: () => Date };

export class SecurityHolds {
  constructor(private readonly deps: HoldDeps) {}

  /** Puts the dongle on SECURITY_HOLD, ends its open pairings, audits why. */
  async hold(row: DongleRow, actor: AuditActor, reason: string, details: Record<string, unknown>) {
    const { db, now, log } = this.deps;
    const held = await db.transaction(async (tx) => {
      const [updated] = await tx
        .update(dongles)
        .set({ ownershipState: 'SECURITY_HOLD', updatedAt: now() })
        .where(eq(dongles.id, row.id))
        .returning({ id: dongles.id });
      if (!updated) return false;
      await endOpenPairings(tx, row.id, now());
      await writeAudit(tx, actor, {
        action: 'dongle.security_hold_entered',
        targetType: 'dongle',
        targetId: row.id,
        details: {
          device_id: row.deviceId,
          reason,
          ...details,
          before: { ownership_state: row.ownershipState },
          after: { ownership_state: 'SECURITY_HOLD' },
        },
      });
      return true;
    });
    if (held) log.warn({ dongle_id: row.id, reason }, 'dongle put on SECURITY_HOLD');
  }

  /** Starts the hold counters of a dongle over (after a hold is cleared or the dongle changes hands). */
  async forgetCounts(dongleId: string): Promise<void> {
    await this.deps.engine.forget(`pairing-start:dongle:${dongleId}`, `token-agents:${dongleId}`);
  }

  /**
   * Trigger 3b: called each time the cloud hands a dongle's token to a node. The first use by a node within
   * the hour counts it as one more distinct node; past the limit the dongle is held and the caller must not
   * send the token (returns false).
   */
  async tokenHandedTo(row: DongleRow, agentId: string): Promise<boolean> {
    const { engine } = this.deps;
    const first = await engine.hit(`token-agent:${row.id}:${agentId}`, HOUR_MS);
    if (first.count > 1) return true;
    const distinct = await engine.hit(`token-agents:${row.id}`, HOUR_MS);
    if (distinct.count <= MAX_TOKEN_AGENTS_PER_HOUR) return true;
    await this.hold(
      row,
      SYSTEM_ACTOR,
      `its token was asked for by more than ${MAX_TOKEN_AGENTS_PER_HOUR} nodes in an hour`,
      {
        agent_id: agentId,
        distinct_agents: distinct.count,
      },
    );
    return false;
  }

  /**
   * Trigger 4: a node's report says which LAN address a dongle saw the most rejected tokens from. A claimed
   * dongle (its token is what is being guessed) goes on hold past the limit; an unclaimed one has no token to
   * guess, so its failures are only logged.
   */
  async checkAuthFailures(agent: { id: string }, report: DongleReport): Promise<void> {
    const noisy = report.dongles.filter(
      (d) => d.auth_failures && d.auth_failures.per_minute > MAX_AUTH_FAILURES_PER_MINUTE,
    );
    if (noisy.length === 0) return;
    const rows = await this.deps.db
      .select()
      .from(dongles)
      .where(
        inArray(
          dongles.deviceId,
          noisy.map((d) => d.device_id),
        ),
      );
    for (const d of noisy) {
      const row = rows.find((r) => r.deviceId === d.device_id);
      const failures = d.auth_failures as { lan_ip: string; per_minute: number };
      const details = {
        agent_id: agent.id,
        lan_ip: failures.lan_ip,
        failures_per_minute: failures.per_minute,
      };
      if (!row || row.ownershipState === 'SECURITY_HOLD') continue;
      if (row.ownershipState === 'UNCLAIMED') {
        this.deps.log.warn({ dongle_id: row.id, ...details }, 'rejected tokens at an unclaimed dongle');
        continue;
      }
      await this.hold(
        row,
        SYSTEM_ACTOR,
        `more than ${MAX_AUTH_FAILURES_PER_MINUTE} rejected tokens a minute from one LAN address`,
        details,
      );
    }
  }
}
