import type {
  AdminDongle,
  AdminDonglesQuery,
  Dongle,
  DongleReport,
  DongleSighting,
  PairingState,
} from '@canopy/protocol';
import { and, desc, eq, ilike, inArray, isNull, notInArray, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { escapeLike } from '../db/like';
import { agents, dongleSightings, dongles, users } from '../db/schema';
import type { StreamEngine } from '../engine';
import { ApiError } from '../http/errors';
import type { Logger } from '../log';
import type { ConsoleEmitter } from '../streams/console-streams';
import { consoleStreamKey } from '../streams/keys';
import { presenceChanged, presenceOf } from '../streams/presence';
import type { SecurityHolds } from './holds';

/** How long a Dongles page keeps its user's nodes scanning fast after it last asked (POST /dongles/scan). */
export const FAST_SCAN_MS = 30_000;
/**
 * A sighting older than this counts as offline even if it said online: a node reports on every change and
 * at least every minute, so three missed reports mean its bridge has stopped talking.
 */
export const SIGHTING_STALE_MS = 3 * 60_000;

const fastScanKey = (userId: string) => `dongle-scan:user:${userId}`;

export type DongleServiceDeps = {
  db: Db;
  engine: StreamEngine;
  log: Logger;
  now: () => Date;
  /** A node silent this long is offline (the agents' own rule), and so is what it reported. */
  agentIdleTimeoutMs: number;
  /** Tells one node to scan now (through whichever instance holds its connection). */
  askToScan: (agentId: string, fastUntil: string) => Promise<void>;
  /** SECURITY_HOLD trigger 4 (rejected tokens from one LAN address) is checked on every report. */
  holds?: Pick<SecurityHolds, 'checkAuthFailures'>;
  /** The live console hears when an owned dongle goes online or offline, or moves to another node. */
  consoleStreams?: Pick<ConsoleEmitter, 'notify'>;
  /** The group a dongle is in, if any: its console hears the dongle's presence too. */
  groupOf?: (dongleId: string) => Promise<string | null>;
};

type SightingRow = typeof dongleSightings.$inferSelect & {
  agentName: string;
  agentLastSeenAt: Date | null;
  agentOfflineAt: Date | null;
};

/** Dongles as the user's nodes see them (spec 002 §10, §21.5): reports in, the Dongles page out. */
export class DongleService {
  constructor(private readonly deps: DongleServiceDeps) {}

  /**
   * One node's snapshot: upserts each dongle by device_id and replaces that node's sightings. Returns until
   * when the node should scan fast (someone of its user has the Dongles page open), or null.
   */
  async report(
    agent: { id: string; userId: string },
    report: DongleReport,
    requestId?: string,
  ): Promise<{ fastScanUntil: string | null }> {
    const { db, now, log } = this.deps;
    const at = now();
    const seen = dedupe(report.dongles);
    const presenceBefore = this.deps.consoleStreams ? await this.presenceOfOwned(agent.userId) : undefined;
    await db.transaction(async (tx) => {
      let ids = new Map<string, string>();
      if (seen.length > 0) {
        const rows = await tx
          .insert(dongles)
          .values(
            seen.map((d) => ({
              deviceId: d.device_id,
              fwBuild: d.fw_build,
              lastSeenAt: d.online ? at : null,
            })),
          )
          .onConflictDoUpdate({
            target: dongles.deviceId,
            set: {
              fwBuild: sql`coalesce(excluded.fw_build, ${dongles.fwBuild})`,
              lastSeenAt: sql`greatest(${dongles.lastSeenAt}, excluded.last_seen_at)`,
              updatedAt: at,
            },
          })
          // xmax is 0 on a row this statement inserted (not one it updated).
          .returning({ id: dongles.id, deviceId: dongles.deviceId, inserted: sql<boolean>`(xmax = 0)` });
        ids = new Map(rows.map((r) => [r.deviceId, r.id]));
        for (const r of rows.filter((row) => row.inserted)) {
          log.info({ agent_id: agent.id, device_id: r.deviceId }, 'dongle seen for the first time');
        }
      }
      const dongleIds = [...ids.values()];
      await tx
        .delete(dongleSightings)
        .where(
          dongleIds.length > 0
            ? and(eq(dongleSightings.agentId, agent.id), notInArray(dongleSightings.dongleId, dongleIds))
            : eq(dongleSightings.agentId, agent.id),
        );
      if (seen.length === 0) return;
      await tx
        .insert(dongleSightings)
        .values(
          seen.map((d) => ({
            dongleId: ids.get(d.device_id) as string,
            agentId: agent.id,
            lanIp: d.lan_ip,
            udpPort: d.udp_port,
            iface: d.interface,
            fwBuild: d.fw_build,
            protoVer: d.proto_ver,
            capabilities: d.capabilities,
            pairingState: d.pairing_state,
            online: d.online,
            // The node's clock may run ahead; a sighting is never later than its report.
            lastSeenAt: new Date(Math.min(Date.parse(d.last_seen_at), at.getTime())),
            reportedAt: at,
          })),
        )
        .onConflictDoUpdate({
          target: [dongleSightings.dongleId, dongleSightings.agentId],
          set: {
            lanIp: sql`excluded.lan_ip`,
            udpPort: sql`excluded.udp_port`,
            iface: sql`excluded.interface`,
            fwBuild: sql`excluded.fw_build`,
            protoVer: sql`excluded.proto_ver`,
            capabilities: sql`excluded.capabilities`,
            pairingState: sql`excluded.pairing_state`,
            online: sql`excluded.online`,
            lastSeenAt: sql`excluded.last_seen_at`,
            reportedAt: sql`excluded.reported_at`,
          },
        });
    });
    await this.deps.holds?.checkAuthFailures(agent, report);
    if (presenceBefore) {
      await this.announcePresence(agent.userId, presenceBefore, requestId).catch((err) =>
        log.warn({ err, agent_id: agent.id }, 'could not tell the live console of presence'),
      );
    }
    return { fastScanUntil: await this.fastScanUntil(agent.userId) };
  }

  /** The owner of a dongle (null when unclaimed or unknown). */
  async ownerOf(dongleId: string): Promise<string | null> {
    const [row] = await this.deps.db
      .select({ owner: dongles.ownerUserId })
      .from(dongles)
      .where(eq(dongles.id, dongleId))
      .limit(1);
    return row?.owner ?? null;
  }

  private async presenceOfOwned(userId: string) {
    const owned = (await this.list(userId)).filter((d) => d.owned);
    return new Map(owned.map((d) => [d.id, presenceOf(d)]));
  }

  private async announcePresence(
    userId: string,
    before: Map<string, ReturnType<typeof presenceOf>>,
    requestId: string | undefined,
  ): Promise<void> {
    for (const [id, after] of await this.presenceOfOwned(userId)) {
      if (!presenceChanged(before.get(id), after)) continue;
      const event = { ...after, request_id: requestId };
      this.deps.consoleStreams?.notify(consoleStreamKey('dongle', id), 'presence', event);
      const groupId = await this.deps.groupOf?.(id).catch((err) => {
        this.deps.log.warn({ err, dongle_id: id }, 'could not find the group of a dongle for its console');
        return null;
      });
      if (groupId) this.deps.consoleStreams?.notify(consoleStreamKey('group', groupId), 'presence', event);
    }
  }

  /** Until when the user's nodes should scan fast, or null. */
  async fastScanUntil(userId: string): Promise<string | null> {
    const window = await this.deps.engine.peek(fastScanKey(userId));
    return window.count > 0 ? new Date(this.deps.now().getTime() + window.resetInMs).toISOString() : null;
  }

  /** The Dongles page is open: the user's nodes scan now and every 2–5 s for FAST_SCAN_MS. */
  async requestScan(userId: string): Promise<{ nodes: number; fastScanUntil: string }> {
    const { db, engine, now } = this.deps;
    const window = await engine.hit(fastScanKey(userId), FAST_SCAN_MS);
    const fastScanUntil = new Date(now().getTime() + window.resetInMs).toISOString();
    const rows = await db
      .select({ id: agents.id, lastSeenAt: agents.lastSeenAt, offlineAt: agents.offlineAt })
      .from(agents)
      .where(and(eq(agents.userId, userId), isNull(agents.removedAt)));
    const online = rows.filter((r) => this.agentOnline(r.lastSeenAt, r.offlineAt));
    await Promise.all(online.map((r) => this.deps.askToScan(r.id, fastScanUntil)));
    return { nodes: online.length, fastScanUntil };
  }

  /**
   * The user's own dongles, and those the user's nodes see (unclaimed ones to pair; someone else's show as
   * not theirs, without any detail of the owner).
   */
  async list(userId: string): Promise<Dongle[]> {
    const sightings = await this.sightingsOf(userId);
    const seenIds = [...new Set(sightings.map((s) => s.dongleId))];
    const rows = await this.deps.db
      .select()
      .from(dongles)
      .where(
        seenIds.length > 0
          ? or(eq(dongles.ownerUserId, userId), inArray(dongles.id, seenIds))
          : eq(dongles.ownerUserId, userId),
      );
    return rows
      .map((row) => this.toDongle(row, userId, sightings))
      .sort((a, b) => Number(b.online) - Number(a.online) || a.device_id.localeCompare(b.device_id));
  }

  /**
   * A dongle the user may act on and the user's node to reach it through: the online sighting heard most
   * recently. 404 DONGLE_NOT_FOUND when the user may not see it; 409 AGENT_OFFLINE when no node of theirs
   * hears it now.
   */
  async route(
    userId: string,
    id: string,
    /** A node to keep using while it still hears the dongle (the relay does not hop between nodes). */
    prefer?: string,
  ): Promise<{ dongle: Dongle; row: typeof dongles.$inferSelect; agentId: string }> {
    const dongle = await this.get(userId, id);
    const via =
      dongle.seen_by.find((s) => s.online && s.agent_id === prefer) ?? dongle.seen_by.find((s) => s.online);
    if (!via) throw new ApiError(409, 'AGENT_OFFLINE', 'None of your nodes hears this dongle right now');
    const [row] = await this.deps.db.select().from(dongles).where(eq(dongles.id, id)).limit(1);
    if (!row) throw new ApiError(404, 'DONGLE_NOT_FOUND', 'Dongle not found');
    return { dongle, row, agentId: via.agent_id };
  }

  /**
   * route() for many dongles of one user from one listing (the relay asks for every group side every few
   * seconds): the node that reaches each dongle now, preferring `prefer` while it still hears it; null when none.
   */
  async router(userId: string): Promise<(dongleId: string, prefer?: string) => string | null> {
    const byId = new Map((await this.list(userId)).map((d) => [d.id, d]));
    return (dongleId, prefer) => {
      const seen = byId.get(dongleId)?.seen_by ?? [];
      return (
        (seen.find((s) => s.online && s.agent_id === prefer) ?? seen.find((s) => s.online))?.agent_id ?? null
      );
    };
  }

  /** The dongle's row (for opening its token), or a 404. */
  async row(id: string): Promise<typeof dongles.$inferSelect> {
    const [row] = await this.deps.db.select().from(dongles).where(eq(dongles.id, id)).limit(1);
    if (!row) throw new ApiError(404, 'DONGLE_NOT_FOUND', 'Dongle not found');
    return row;
  }

  /** Every dongle for a super_admin, newest change first (at most 200). */
  async adminList(query: AdminDonglesQuery): Promise<AdminDongle[]> {
    const pattern = query.q ? `%${escapeLike(query.q)}%` : undefined;
    const rows = await this.deps.db
      .select({ dongle: dongles, ownerEmail: users.email })
      .from(dongles)
      .leftJoin(users, eq(users.id, dongles.ownerUserId))
      .where(
        and(
          query.state ? eq(dongles.ownershipState, query.state) : undefined,
          pattern ? or(ilike(dongles.deviceId, pattern), ilike(users.email, pattern)) : undefined,
        ),
      )
      .orderBy(desc(dongles.updatedAt))
      .limit(200);
    return rows.map(({ dongle: d, ownerEmail }) => ({
      id: d.id,
      device_id: d.deviceId,
      ownership_state: d.ownershipState,
      owner_user_id: d.ownerUserId,
      owner_email: ownerEmail,
      fw_build: d.fwBuild,
      last_seen_at: d.lastSeenAt?.toISOString() ?? null,
      updated_at: d.updatedAt.toISOString(),
    }));
  }

  async get(userId: string, id: string): Promise<Dongle> {
    const found = (await this.list(userId)).find((d) => d.id === id);
    if (!found) throw new ApiError(404, 'DONGLE_NOT_FOUND', 'Dongle not found');
    return found;
  }

  private async sightingsOf(userId: string): Promise<SightingRow[]> {
    return this.deps.db
      .select({
        dongleId: dongleSightings.dongleId,
        agentId: dongleSightings.agentId,
        lanIp: dongleSightings.lanIp,
        udpPort: dongleSightings.udpPort,
        iface: dongleSightings.iface,
        fwBuild: dongleSightings.fwBuild,
        protoVer: dongleSightings.protoVer,
        capabilities: dongleSightings.capabilities,
        pairingState: dongleSightings.pairingState,
        online: dongleSightings.online,
        lastSeenAt: dongleSightings.lastSeenAt,
        reportedAt: dongleSightings.reportedAt,
        agentName: agents.name,
        agentLastSeenAt: agents.lastSeenAt,
        agentOfflineAt: agents.offlineAt,
      })
      .from(dongleSightings)
      .innerJoin(agents, eq(agents.id, dongleSightings.agentId))
      .where(and(eq(agents.userId, userId), isNull(agents.removedAt)));
  }

  private agentOnline(lastSeenAt: Date | null, offlineAt: Date | null): boolean {
    const seen = lastSeenAt?.getTime();
    if (seen === undefined) return false;
    return (
      this.deps.now().getTime() - seen < this.deps.agentIdleTimeoutMs &&
      !(offlineAt && offlineAt.getTime() >= seen)
    );
  }

  private sightingOnline(s: SightingRow): boolean {
    return (
      s.online &&
      this.deps.now().getTime() - s.reportedAt.getTime() < SIGHTING_STALE_MS &&
      this.agentOnline(s.agentLastSeenAt, s.agentOfflineAt)
    );
  }

  private toDongle(row: typeof dongles.$inferSelect, userId: string, all: SightingRow[]): Dongle {
    const mine = all
      .filter((s) => s.dongleId === row.id)
      .map((s) => ({ row: s, online: this.sightingOnline(s) }))
      .sort(
        (a, b) =>
          Number(b.online) - Number(a.online) || b.row.lastSeenAt.getTime() - a.row.lastSeenAt.getTime(),
      );
    const seenBy: DongleSighting[] = mine.map(({ row: s, online }) => ({
      agent_id: s.agentId,
      agent_name: s.agentName,
      lan_ip: s.lanIp,
      udp_port: s.udpPort,
      interface: s.iface,
      online,
      pairing_state: s.pairingState as PairingState,
      last_seen_at: s.lastSeenAt.toISOString(),
    }));
    const best = mine[0];
    const online = best?.online ?? false;
    return {
      id: row.id,
      device_id: row.deviceId,
      owned: row.ownerUserId === userId,
      ownership_state: row.ownershipState,
      fw_build: row.fwBuild,
      online,
      pairing_state: online && best ? (best.row.pairingState as PairingState) : 'normal',
      lan_ip: best?.row.lanIp ?? null,
      last_seen_at: row.lastSeenAt?.toISOString() ?? null,
      seen_by: seenBy,
      created_at: row.createdAt.toISOString(),
    };
  }
}

/** One entry per device_id (a node merges by device_id already; a hostile or buggy one may not). */
function dedupe(list: DongleReport['dongles']): DongleReport['dongles'] {
  const byId = new Map<string, DongleReport['dongles'][number]>();
  for (const d of list) {
    const kept = byId.get(d.device_id);
    if (
      !kept ||
      (d.online && !kept.online) ||
      (d.online === kept.online && d.last_seen_at > kept.last_seen_at)
    ) {
      byId.set(d.device_id, d);
    }
  }
  return [...byId.values()];
}
