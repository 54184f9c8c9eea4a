import { randomBytes } from 'node:crypto';
import type { PairingSubmitRequest } from '@canopy/protocol';
import { and, eq, isNull, ne, or, sql } from 'drizzle-orm';
import { type AuditActor, writeAudit } from '../audit/writer';
import type { Db } from '../db/client';
import { dongles, dongleTokens, pairingSessions } from '../db/schema';
import type { StreamEngine } from '../engine';
import type { GroupService } from '../groups/service';
import { ApiError } from '../http/errors';
import type { Logger } from '../log';
import type { SecurityHolds } from './holds';
import { endOpenPairings } from './pairing-sessions';
import type { DongleRpc } from './rpc';
import type { DongleService } from './service';

/** spec 002 §11.2: 5 wrong PINs in a pairing window put the dongle on SECURITY_HOLD. */
export const MAX_WRONG_PINS = 5;
/** spec 002 §11.3 trigger 3: more than this many pairing starts of one dongle in an hour. */
export const MAX_STARTS_PER_HOUR = 10;
const PAIRING_TOKEN_BYTES = 32;

/** Seals a dongle token (AES-256-GCM under the newest master key; see src/keys). */
export interface TokenSealer {
  seal(
    plaintext: Buffer,
    aad: { dongleId: string; userId: string; createdAt: Date },
  ): { keyVersion: number; nonce: Buffer; ciphertext: Buffer };
}

export type PairingDeps = {
  db: Db;
  engine: StreamEngine;
  log: Logger;
  now: () => Date;
  dongles: DongleService;
  rpc: DongleRpc;
  sealer: TokenSealer;
  holds: SecurityHolds;
  /** Unpairing takes the dongle out of its group (spec 002 §12): the group is deleted, as it needs two. */
  groups: Pick<GroupService, 'removeDongle' | 'changed'>;
};

type DongleRow = typeof dongles.$inferSelect;

/** Pairing and unpairing (spec 002 §11, §12): the cloud decides ownership; the dongle proves the PIN. */
export class Pairing {
  constructor(private readonly deps: PairingDeps) {}

  /** "Enter pairing mode": the node sends PAIRING_MODE_START; a pairing session lasts as long as the dongle says. */
  async start(userId: string, dongleId: string, actor: AuditActor) {
    const { db, engine, now, rpc } = this.deps;
    const { row, agentId } = await this.deps.dongles.route(userId, dongleId);
    this.refuseHeldOrOthers(row, userId);
    const starts = await engine.hit(`pairing-start:dongle:${row.id}`, 3600_000);
    if (starts.count > MAX_STARTS_PER_HOUR) {
      await this.deps.holds.hold(row, actor, 'more than 10 pairing starts in an hour', {
        starts: starts.count,
      });
      throw holdError();
    }
    const answer = await rpc.call(agentId, row.deviceId, { op: 'pairing_start' });
    if (answer.status === 'cooldown') {
      throw new ApiError(409, 'PAIRING_COOLDOWN', 'The dongle is locked after wrong PINs; try again later', {
        retry_after_s: answer.seconds,
      });
    }
    if (answer.status !== 'ok' || !answer.pairing_nonce) {
      throw new ApiError(409, 'PAIRING_REFUSED', 'The dongle did not enter pairing mode', {
        status: answer.status,
      });
    }
    const expiresAt = new Date(now().getTime() + Math.min(Math.max(answer.seconds, 1), 600) * 1000);
    const [session] = await db
      .insert(pairingSessions)
      .values({
        dongleId: row.id,
        userId,
        agentId,
        nonce: Buffer.from(answer.pairing_nonce, 'base64'),
        expiresAt,
      })
      .returning();
    if (!session) throw new Error('no pairing session row');
    await writeAudit(db, actor, {
      action: 'dongle.pairing_started',
      targetType: 'dongle',
      targetId: row.id,
      details: {
        device_id: row.deviceId,
        agent_id: agentId,
        pairing_session_id: session.id,
        seconds: answer.seconds,
      },
    });
    return { dongle_id: row.id, pairing_session_id: session.id, expires_at: expiresAt.toISOString() };
  }

  /** The user's PIN: the node sends PAIRING_SUBMIT with a fresh token; on the dongle's OK the user owns it. */
  async submit(userId: string, dongleId: string, input: PairingSubmitRequest, actor: AuditActor) {
    const { db, now, rpc, log } = this.deps;
    const { row } = await this.deps.dongles.route(userId, dongleId);
    this.refuseHeldOrOthers(row, userId);
    // Only one PIN is checked at a time per session: the first of two concurrent submits wins the row.
    const [session] = await db
      .update(pairingSessions)
      .set({ state: 'submitting' })
      .where(
        and(
          eq(pairingSessions.id, input.pairing_session_id),
          eq(pairingSessions.dongleId, row.id),
          eq(pairingSessions.userId, userId),
          eq(pairingSessions.state, 'open'),
          sql`${pairingSessions.expiresAt} > ${now()}`,
        ),
      )
      .returning();
    if (!session) throw await this.sessionError(input.pairing_session_id, row.id, userId);
    const nonce = input.pairing_nonce ?? session.nonce?.toString('base64');
    if (!nonce) throw new ApiError(409, 'PAIRING_SESSION_INVALID', 'This pairing has no nonce; start again');
    const token = input.dongle_token
      ? Buffer.from(input.dongle_token, 'base64')
      : randomBytes(PAIRING_TOKEN_BYTES);
    let answer: Awaited<ReturnType<DongleRpc['call']>> & { op: 'pairing_submit' };
    try {
      answer = await rpc.call(session.agentId, row.deviceId, {
        op: 'pairing_submit',
        pin: input.pin,
        pairing_nonce: nonce,
        token: token.toString('base64'),
      });
    } catch (err) {
      await db.update(pairingSessions).set({ state: 'open' }).where(eq(pairingSessions.id, session.id));
      throw err;
    }
    const details = { device_id: row.deviceId, pairing_session_id: session.id, agent_id: session.agentId };
    if (answer.status === 'ok') return this.claim(row, userId, token, session.id, actor, details);
    if (answer.status === 'invalid_pin') {
      const wrong = session.wrongPins + 1;
      const held = wrong >= MAX_WRONG_PINS;
      await db
        .update(pairingSessions)
        .set({ wrongPins: wrong, state: held ? 'failed' : 'open', ...(held ? { finishedAt: now() } : {}) })
        .where(eq(pairingSessions.id, session.id));
      await writeAudit(db, actor, {
        action: 'dongle.pairing_failed',
        targetType: 'dongle',
        targetId: row.id,
        details: { ...details, reason: 'invalid_pin', wrong_pins: wrong },
      });
      if (held) {
        await this.deps.holds.hold(row, actor, `${MAX_WRONG_PINS} wrong PINs`, { wrong_pins: wrong });
        throw holdError();
      }
      throw new ApiError(400, 'PAIRING_PIN_INVALID', 'That PIN is not the one the dongle shows', {
        attempts_left: MAX_WRONG_PINS - wrong,
      });
    }
    await db
      .update(pairingSessions)
      .set({ state: 'failed', finishedAt: now() })
      .where(eq(pairingSessions.id, session.id));
    await writeAudit(db, actor, {
      action: 'dongle.pairing_failed',
      targetType: 'dongle',
      targetId: row.id,
      details: { ...details, reason: answer.status },
    });
    if (answer.status === 'cooldown') {
      await this.deps.holds.hold(row, actor, 'the dongle locked itself after wrong PINs', {
        seconds: answer.seconds,
      });
      throw holdError();
    }
    log.warn({ dongle_id: row.id, status: answer.status }, 'the dongle refused a pairing submit');
    throw new ApiError(409, 'PAIRING_REFUSED', 'The dongle ended its pairing mode; start pairing again');
  }

  /** Unpair (owner) or force-unpair (super_admin, `force`): owner, token and pairing cleared; audited. */
  async unpair(userId: string, dongleId: string, actor: AuditActor, force = false) {
    const { db, now } = this.deps;
    const [row] = await db.select().from(dongles).where(eq(dongles.id, dongleId)).limit(1);
    if (!row || (!force && row.ownerUserId !== userId))
      throw new ApiError(404, 'DONGLE_NOT_FOUND', 'Dongle not found');
    // spec 002 §11.3: only a super_admin clears a hold (force-unpair).
    if (!force && row.ownershipState === 'SECURITY_HOLD') throw holdError();
    const groupId = await db.transaction(async (tx) => {
      // Before the owner goes: a group member's foreign key holds the dongle to its owner.
      const removed = await this.deps.groups.removeDongle(tx, row.id, actor);
      await tx
        .update(dongles)
        .set({ ownerUserId: null, ownershipState: 'UNCLAIMED', updatedAt: now() })
        .where(eq(dongles.id, row.id));
      await tx.delete(dongleTokens).where(eq(dongleTokens.dongleId, row.id));
      await endOpenPairings(tx, row.id, now());
      await writeAudit(tx, actor, {
        action: force ? 'dongle.force_unpaired' : 'dongle.unpaired',
        targetType: 'dongle',
        targetId: row.id,
        details: {
          device_id: row.deviceId,
          before: { owner_user_id: row.ownerUserId, ownership_state: row.ownershipState },
          after: { owner_user_id: null, ownership_state: 'UNCLAIMED' },
          ...(row.ownershipState === 'SECURITY_HOLD' ? { hold_cleared: true } : {}),
        },
      });
      if (row.ownershipState === 'SECURITY_HOLD') {
        await writeAudit(tx, actor, {
          action: 'dongle.security_hold_cleared',
          targetType: 'dongle',
          targetId: row.id,
          details: {
            device_id: row.deviceId,
            how: 'force_unpair',
            before: { ownership_state: 'SECURITY_HOLD' },
            after: { ownership_state: 'UNCLAIMED' },
          },
        });
      }
      return removed;
    });
    if (groupId) await this.deps.groups.changed(groupId);
    // A cleared hold starts its counters (pairing starts, nodes given the token) over.
    if (row.ownershipState === 'SECURITY_HOLD') await this.deps.holds.forgetCounts(row.id);
  }

  /**
   * The manual reset flow (super_admin, spec 002 §11.3): ends a SECURITY_HOLD and gives the dongle back to its
   * owner — CLAIMED_ACTIVE when its token is still stored, RESET_DETECTED (pair again) when not — or, with no
   * owner, UNCLAIMED. The hold's counters start over. Force-unpair is the other way out.
   */
  async clearHold(dongleId: string, actor: AuditActor) {
    const { db, now } = this.deps;
    const result = await db.transaction(async (tx) => {
      const [row] = await tx.select().from(dongles).where(eq(dongles.id, dongleId)).limit(1).for('update');
      if (!row) throw new ApiError(404, 'DONGLE_NOT_FOUND', 'Dongle not found');
      if (row.ownershipState !== 'SECURITY_HOLD') {
        throw new ApiError(409, 'CONFLICT', 'This dongle is not on security hold', {
          ownership_state: row.ownershipState,
        });
      }
      const [token] = await tx
        .select({ userId: dongleTokens.userId })
        .from(dongleTokens)
        .where(eq(dongleTokens.dongleId, row.id))
        .limit(1);
      const state = !row.ownerUserId
        ? 'UNCLAIMED'
        : token?.userId === row.ownerUserId
          ? 'CLAIMED_ACTIVE'
          : 'RESET_DETECTED';
      await tx.update(dongles).set({ ownershipState: state, updatedAt: now() }).where(eq(dongles.id, row.id));
      await writeAudit(tx, actor, {
        action: 'dongle.security_hold_cleared',
        targetType: 'dongle',
        targetId: row.id,
        details: {
          device_id: row.deviceId,
          how: 'clear_hold',
          before: { ownership_state: 'SECURITY_HOLD', owner_user_id: row.ownerUserId },
          after: { ownership_state: state, owner_user_id: row.ownerUserId },
        },
      });
      return { dongle_id: row.id, ownership_state: state };
    });
    await this.deps.holds.forgetCounts(dongleId);
    return result;
  }

  private async claim(
    row: DongleRow,
    userId: string,
    token: Buffer,
    sessionId: string,
    actor: AuditActor,
    details: Record<string, unknown>,
  ) {
    const { db, now, sealer } = this.deps;
    const at = now();
    const createdAt = new Date(Math.floor(at.getTime())); // stored to the millisecond: the AAD must match
    const sealed = sealer.seal(token, { dongleId: row.id, userId, createdAt });
    const claimed = await db.transaction(async (tx) => {
      const [updated] = await tx
        .update(dongles)
        .set({ ownerUserId: userId, ownershipState: 'CLAIMED_ACTIVE', updatedAt: at })
        .where(
          and(
            eq(dongles.id, row.id),
            or(isNull(dongles.ownerUserId), eq(dongles.ownerUserId, userId)),
            ne(dongles.ownershipState, 'SECURITY_HOLD'),
          ),
        )
        .returning();
      if (!updated) return null;
      await tx.delete(dongleTokens).where(eq(dongleTokens.dongleId, row.id));
      await tx.insert(dongleTokens).values({
        dongleId: row.id,
        userId,
        keyVersion: sealed.keyVersion,
        nonce: sealed.nonce,
        ciphertext: sealed.ciphertext,
        createdAt,
      });
      await tx
        .update(pairingSessions)
        .set({ state: 'paired', finishedAt: at })
        .where(eq(pairingSessions.id, sessionId));
      await writeAudit(tx, actor, {
        action: 'dongle.paired',
        targetType: 'dongle',
        targetId: row.id,
        details: {
          ...details,
          before: { owner_user_id: row.ownerUserId, ownership_state: row.ownershipState },
          after: { owner_user_id: userId, ownership_state: 'CLAIMED_ACTIVE' },
          key_version: sealed.keyVersion,
        },
      });
      return updated;
    });
    if (!claimed) {
      await db
        .update(pairingSessions)
        .set({ state: 'failed', finishedAt: at })
        .where(eq(pairingSessions.id, sessionId));
      throw new ApiError(409, 'DONGLE_OWNED_BY_OTHER', 'Someone else paired this dongle first');
    }
    return { dongle_id: row.id, paired: true, owner_user_id: userId };
  }

  private refuseHeldOrOthers(row: DongleRow, userId: string): void {
    if (row.ownershipState === 'SECURITY_HOLD') throw holdError();
    if (row.ownerUserId && row.ownerUserId !== userId) {
      throw new ApiError(
        409,
        'DONGLE_OWNED_BY_OTHER',
        'This dongle belongs to another account; contact support',
      );
    }
  }

  private async sessionError(sessionId: string, dongleId: string, userId: string): Promise<ApiError> {
    const [found] = await this.deps.db
      .select()
      .from(pairingSessions)
      .where(
        and(
          eq(pairingSessions.id, sessionId),
          eq(pairingSessions.dongleId, dongleId),
          eq(pairingSessions.userId, userId),
        ),
      )
      .limit(1);
    if (found?.state === 'submitting') {
      return new ApiError(409, 'PAIRING_IN_PROGRESS', 'A PIN for this pairing is being checked right now');
    }
    if (found?.state === 'paired') {
      return new ApiError(409, 'PAIRING_SESSION_INVALID', 'This pairing already succeeded');
    }
    return new ApiError(409, 'PAIRING_SESSION_INVALID', 'This pairing has ended; start pairing again');
  }
}

const holdError = () =>
  new ApiError(409, 'PAIRING_SECURITY_HOLD', 'Security hold — contact support', {
    ownership_state: 'SECURITY_HOLD',
  });
