import {
  type CreateGroupRequest,
  type Dongle,
  GROUPS_CHANGED_CHANNEL,
  type Group,
  type GroupBuffer,
  type GroupMode,
  type GroupSideName,
  type GroupsChanged,
} from '@canopy/protocol';
import { and, asc, eq, exists, inArray, ne, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { type AuditActor, writeAudit } from '../audit/writer';
import type { Db } from '../db/client';
import { dongleGroupMembers, dongleGroups, dongles, users } from '../db/schema';
import type { DongleService } from '../dongles/service';
import type { StreamEngine } from '../engine';
import { ApiError } from '../http/errors';
import type { Logger } from '../log';
import { conflictReasonOf, groupConflict } from './conflicts';

/** Who asks: the owner acts on their groups, a super_admin on any. */
export type GroupActor = { id: string; role: string };

/** A group as the relay needs it: who owns it, whether it bridges, and which dongle is which side. */
export type GroupRuntime = {
  id: string;
  owner_user_id: string;
  mode: GroupMode;
  a: { dongle_id: string; device_id: string };
  b: { dongle_id: string; device_id: string };
};

export type GroupServiceDeps = {
  db: Db;
  engine: StreamEngine;
  log: Logger;
  now: () => Date;
  /** Where each side is heard (online, through which node): the owner's view of their dongles. */
  dongles: Pick<DongleService, 'list'>;
  /** Frames the relay holds for the group; zeros until a relay supplies it. */
  bufferOf?: (groupId: string) => Promise<GroupBuffer>;
};

type GroupRow = typeof dongleGroups.$inferSelect & { deviceA: string; deviceB: string };

const NO_BUFFER: GroupBuffer = { a_to_b: 0, b_to_a: 0, pressure: false };
const SIDES = ['a', 'b'] as const;
/** The relay and the cloud itself change a group's mode: no user, no request. */
const SYSTEM: AuditActor = { actorUserId: null, ip: null, userAgent: null };

const notFound = () => new ApiError(404, 'GROUP_NOT_FOUND', 'Group not found');
const dongleA = alias(dongles, 'dongle_a');
const dongleB = alias(dongles, 'dongle_b');

/**
 * Two-dongle groups (spec 002 §13): the owner's routes, and what the relay and unpairing use. Every change is
 * audited and announced on the engine channel `groups:changed` as `{group_id}` once it is committed.
 */
export class GroupService {
  constructor(private readonly deps: GroupServiceDeps) {}

  /** The actor's own groups, oldest first (a new one is added at the end). */
  async list(actor: GroupActor): Promise<Group[]> {
    const rows = await this.rows(eq(dongleGroups.ownerUserId, actor.id));
    if (rows.length === 0) return [];
    const seen = await this.deps.dongles.list(actor.id);
    return Promise.all(rows.map((row) => this.toGroup(row, seen)));
  }

  async get(actor: GroupActor, id: string): Promise<Group> {
    const row = await this.visible(actor, id);
    return this.toGroup(row, await this.deps.dongles.list(row.ownerUserId));
  }

  /** Throws the 404 GROUP_NOT_FOUND unless the actor may see the group (e.g. its live console). */
  async authorize(actor: GroupActor, id: string): Promise<void> {
    await this.visible(actor, id);
  }

  /** A new inactive group of two of the actor's paired dongles, its members inserted with it. */
  async create(actor: GroupActor, input: CreateGroupRequest, audit: AuditActor): Promise<Group> {
    const { db, now } = this.deps;
    const a = input.dongle_a_id;
    const b = input.dongle_b_id;
    if (a === b) throw groupConflict('same_dongle', { dongle_id: a });
    const ids = [a, b];
    let groupId: string;
    try {
      groupId = await db.transaction(async (tx) => {
        // Shared locks: an unpair of either dongle waits for this group (and then removes it), while a
        // concurrent create for the same dongle runs into the members' primary key instead.
        const rows = await tx
          .select()
          .from(dongles)
          .where(inArray(dongles.id, ids))
          .orderBy(asc(dongles.id))
          .for('share');
        const pair = ids.map((id) => rows.find((r) => r.id === id));
        for (const [i, row] of pair.entries()) {
          if (!row || row.ownerUserId !== actor.id) throw groupConflict('not_owned', { dongle_id: ids[i] });
        }
        for (const row of pair) {
          if (row && row.ownershipState !== 'CLAIMED_ACTIVE') {
            throw groupConflict('not_active', { dongle_id: row.id, ownership_state: row.ownershipState });
          }
        }
        const [taken] = await tx
          .select({ dongleId: dongleGroupMembers.dongleId })
          .from(dongleGroupMembers)
          .where(inArray(dongleGroupMembers.dongleId, ids));
        if (taken) throw groupConflict('in_another_group', { dongle_id: taken.dongleId });
        const at = now();
        const [group] = await tx
          .insert(dongleGroups)
          .values({
            ownerUserId: actor.id,
            name: input.name,
            dongleAId: a,
            dongleBId: b,
            createdAt: at,
            updatedAt: at,
          })
          .returning();
        if (!group) throw new Error('no group row');
        // Always in dongle-id order, so two creates racing for the same two dongles cannot deadlock.
        const members = [
          { dongleId: a, side: 'a' as const },
          { dongleId: b, side: 'b' as const },
        ].sort((x, y) => x.dongleId.localeCompare(y.dongleId));
        await tx
          .insert(dongleGroupMembers)
          .values(members.map((m) => ({ ...m, groupId: group.id, ownerUserId: actor.id })));
        await writeAudit(tx, audit, {
          action: 'group.created',
          targetType: 'group',
          targetId: group.id,
          details: {
            name: group.name,
            a: { dongle_id: a, device_id: pair[0]?.deviceId },
            b: { dongle_id: b, device_id: pair[1]?.deviceId },
            before: null,
            after: { mode: group.mode },
          },
        });
        return group.id;
      });
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const reason = conflictReasonOf(err);
      if (reason) throw groupConflict(reason);
      throw err;
    }
    await this.changed(groupId);
    return this.get(actor, groupId);
  }

  /**
   * Starts bridging: `active`, or `degraded` when a side is offline now (the relay then keeps the mode up to
   * date). Both dongles must still be paired and working. Activating a bridging group changes nothing.
   */
  async activate(actor: GroupActor, id: string, audit: AuditActor): Promise<Group> {
    const found = await this.visible(actor, id);
    const seen = await this.deps.dongles.list(found.ownerUserId);
    const offline = SIDES.filter((side) => !seen.find((d) => d.id === sideOf(found, side))?.online);
    const mode: GroupMode = offline.length > 0 ? 'degraded' : 'active';
    const changed = await this.deps.db.transaction(async (tx) => {
      const [row] = await tx.select().from(dongleGroups).where(eq(dongleGroups.id, id)).for('update');
      if (!row) throw notFound();
      if (row.mode !== 'inactive') return false;
      const members = await tx
        .select({ id: dongles.id, state: dongles.ownershipState })
        .from(dongles)
        .where(inArray(dongles.id, [row.dongleAId, row.dongleBId]));
      const unfit = members.find((m) => m.state !== 'CLAIMED_ACTIVE');
      if (unfit) throw groupConflict('not_active', { dongle_id: unfit.id, ownership_state: unfit.state });
      await tx.update(dongleGroups).set({ mode, updatedAt: this.deps.now() }).where(eq(dongleGroups.id, id));
      await writeAudit(tx, audit, {
        action: 'group.activated',
        targetType: 'group',
        targetId: id,
        details: { name: row.name, offline_sides: offline, before: { mode: row.mode }, after: { mode } },
      });
      return true;
    });
    if (changed) await this.changed(id);
    return this.get(actor, id);
  }

  /** Stops bridging (the relay lets go of both sides). Deactivating an inactive group changes nothing. */
  async deactivate(actor: GroupActor, id: string, audit: AuditActor): Promise<Group> {
    await this.visible(actor, id);
    const changed = await this.deps.db.transaction(async (tx) => {
      const [row] = await tx.select().from(dongleGroups).where(eq(dongleGroups.id, id)).for('update');
      if (!row) throw notFound();
      if (row.mode === 'inactive') return false;
      await tx
        .update(dongleGroups)
        .set({ mode: 'inactive', updatedAt: this.deps.now() })
        .where(eq(dongleGroups.id, id));
      await writeAudit(tx, audit, {
        action: 'group.deactivated',
        targetType: 'group',
        targetId: id,
        details: { name: row.name, before: { mode: row.mode }, after: { mode: 'inactive' } },
      });
      return true;
    });
    if (changed) await this.changed(id);
    return this.get(actor, id);
  }

  /** Deletes the group and its members; both dongles are free for another group. */
  async delete(actor: GroupActor, id: string, audit: AuditActor): Promise<void> {
    await this.visible(actor, id);
    await this.deps.db.transaction(async (tx) => {
      const [row] = await tx.delete(dongleGroups).where(eq(dongleGroups.id, id)).returning();
      if (!row) throw notFound();
      await writeAudit(tx, audit, deletedEvent(row, { reason: 'user' }));
    });
    await this.changed(id);
  }

  /**
   * Inside the caller's transaction (an unpair, before the dongle loses its owner): deletes the group the
   * dongle is in, since a group has exactly two dongles; audited as group.deleted with reason 'unpair'.
   * Returns the deleted group's id: pass it to `changed` once the transaction has committed.
   */
  async removeDongle(tx: Db, dongleId: string, audit: AuditActor): Promise<string | null> {
    // Waits for a create that holds this dongle, so that its group is seen and removed here.
    await tx.select({ id: dongles.id }).from(dongles).where(eq(dongles.id, dongleId)).for('update');
    const [member] = await tx
      .select({ groupId: dongleGroupMembers.groupId })
      .from(dongleGroupMembers)
      .where(eq(dongleGroupMembers.dongleId, dongleId));
    if (!member) return null;
    const [row] = await tx.delete(dongleGroups).where(eq(dongleGroups.id, member.groupId)).returning();
    if (!row) return null;
    await writeAudit(tx, audit, deletedEvent(row, { reason: 'unpair', dongle_id: dongleId }));
    return row.id;
  }

  /**
   * For the relay: the group is degraded (a side offline) or whole again. Ignored when the group is inactive
   * (or gone) or already in that mode; otherwise audited as group.degraded / group.recovered.
   */
  async setMode(groupId: string, mode: 'active' | 'degraded', reason: string): Promise<void> {
    const changed = await this.deps.db.transaction(async (tx) => {
      const [row] = await tx.select().from(dongleGroups).where(eq(dongleGroups.id, groupId)).for('update');
      if (!row || row.mode === 'inactive' || row.mode === mode) return false;
      await tx
        .update(dongleGroups)
        .set({ mode, updatedAt: this.deps.now() })
        .where(eq(dongleGroups.id, groupId));
      await writeAudit(tx, SYSTEM, {
        action: mode === 'degraded' ? 'group.degraded' : 'group.recovered',
        targetType: 'group',
        targetId: groupId,
        details: { reason, before: { mode: row.mode }, after: { mode } },
      });
      return true;
    });
    if (changed) await this.changed(groupId);
  }

  /** One group for the relay, or null when it does not exist. */
  async runtime(groupId: string): Promise<GroupRuntime | null> {
    const [row] = await this.rows(eq(dongleGroups.id, groupId));
    return row ? toRuntime(row) : null;
  }

  /**
   * Every group the relay must bridge: active or degraded, of an owner whose account is active. A disabled
   * user's groups keep their mode and bridge again once the account is enabled.
   */
  async bridged(): Promise<GroupRuntime[]> {
    const ownerActive = exists(
      this.deps.db
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.id, dongleGroups.ownerUserId), eq(users.status, 'active'))),
    );
    return (await this.rows(and(ne(dongleGroups.mode, 'inactive'), ownerActive))).map(toRuntime);
  }

  /** The group a dongle is in and its side there, or null. */
  async groupOfDongle(dongleId: string): Promise<(GroupRuntime & { side: GroupSideName }) | null> {
    const [member] = await this.deps.db
      .select()
      .from(dongleGroupMembers)
      .where(eq(dongleGroupMembers.dongleId, dongleId));
    if (!member) return null;
    const group = await this.runtime(member.groupId);
    return group ? { ...group, side: member.side } : null;
  }

  /** Announces a committed change of a group on `groups:changed`; a failure only delays the relay's view. */
  async changed(groupId: string): Promise<void> {
    const message: GroupsChanged = { group_id: groupId };
    await this.deps.engine.publish(GROUPS_CHANGED_CHANNEL, JSON.stringify(message)).catch((err) => {
      this.deps.log.warn({ err: String(err), group_id: groupId }, 'could not announce a group change');
    });
  }

  /** The group when the actor may see it; anyone else gets the same 404 as for a group that does not exist. */
  private async visible(actor: GroupActor, id: string): Promise<GroupRow> {
    const [row] = await this.rows(eq(dongleGroups.id, id));
    if (!row || (row.ownerUserId !== actor.id && actor.role !== 'super_admin')) throw notFound();
    return row;
  }

  private rows(where: SQL | undefined): Promise<GroupRow[]> {
    return this.deps.db
      .select({
        group: dongleGroups,
        deviceA: dongleA.deviceId,
        deviceB: dongleB.deviceId,
      })
      .from(dongleGroups)
      .innerJoin(dongleA, eq(dongleA.id, dongleGroups.dongleAId))
      .innerJoin(dongleB, eq(dongleB.id, dongleGroups.dongleBId))
      .where(and(where))
      .orderBy(asc(dongleGroups.createdAt), asc(dongleGroups.id))
      .then((rows) => rows.map((r) => ({ ...r.group, deviceA: r.deviceA, deviceB: r.deviceB })));
  }

  private async toGroup(row: GroupRow, seen: Dongle[]): Promise<Group> {
    const side = (name: GroupSideName) => {
      const dongleId = sideOf(row, name);
      const dongle = seen.find((d) => d.id === dongleId);
      return {
        dongle_id: dongleId,
        device_id: name === 'a' ? row.deviceA : row.deviceB,
        online: dongle?.online ?? false,
        // The node DongleService.route would pick: the online sighting heard most recently.
        agent_id: dongle?.seen_by.find((s) => s.online)?.agent_id ?? null,
      };
    };
    return {
      id: row.id,
      name: row.name,
      mode: row.mode,
      a: side('a'),
      b: side('b'),
      buffer: await this.buffer(row.id),
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
    };
  }

  private async buffer(groupId: string): Promise<GroupBuffer> {
    if (!this.deps.bufferOf) return NO_BUFFER;
    try {
      return await this.deps.bufferOf(groupId);
    } catch (err) {
      this.deps.log.warn({ err: String(err), group_id: groupId }, 'could not read a group’s buffer');
      return NO_BUFFER;
    }
  }
}

const sideOf = (row: typeof dongleGroups.$inferSelect, side: GroupSideName) =>
  side === 'a' ? row.dongleAId : row.dongleBId;

function toRuntime(row: GroupRow): GroupRuntime {
  return {
    id: row.id,
    owner_user_id: row.ownerUserId,
    mode: row.mode,
    a: { dongle_id: row.dongleAId, device_id: row.deviceA },
    b: { dongle_id: row.dongleBId, device_id: row.deviceB },
  };
}

function deletedEvent(row: typeof dongleGroups.$inferSelect, details: Record<string, unknown>) {
  return {
    action: 'group.deleted',
    targetType: 'group',
    targetId: row.id,
    details: {
      ...details,
      name: row.name,
      before: { mode: row.mode, dongle_a_id: row.dongleAId, dongle_b_id: row.dongleBId },
      after: null,
    },
  };
}
