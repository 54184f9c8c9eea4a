import type { SeenDongle } from '@canopy/protocol';
import type { Announce } from '@canopy/remp';

/** A dongle missing from this many scans in a row goes offline (issue: "missing from 3 scans"). */
export const MISSED_SCANS_OFFLINE = 3;
/** An offline dongle is forgotten after this long, so the list stays bounded. */
export const FORGET_AFTER_MS = 24 * 3600_000;
/** At most this many dongles are kept (the report's limit too). */
export const MAX_DONGLES = 512;

/** One ANNOUNCE as a scan heard it. */
export interface Heard {
  announce: Announce;
  /** The node's interface it was heard on. */
  iface: string;
  /** The datagram's source address: where REMP requests go. */
  from: string;
}

interface Entry {
  announce: Announce;
  /** Per interface: the lan_ip that interface reported (ANNOUNCE lan_ip, else the source address). */
  paths: Map<string, { lanIp: string; from: string }>;
  /** The interface heard most recently. */
  primary: string;
  lastSeenAt: number;
  missed: number;
  online: boolean;
}

/** Where to send REMP to a dongle. */
export interface DongleTarget {
  address: string;
  port: number;
}

/**
 * What canopy-node knows about the dongles on its LANs, merged by device_id across interfaces and scans.
 * Pure: the bridge calls beginScan, hear (per ANNOUNCE, also between scans), endScan, and reports the
 * snapshot when `dirty`.
 */
export class DongleRegistry {
  readonly #entries = new Map<string, Entry>();
  #heard = new Set<string>();
  #heardPaths = new Set<string>();
  #reported = '[]';

  beginScan(): void {
    this.#heard = new Set();
    this.#heardPaths = new Set();
  }

  /** One ANNOUNCE; returns true when it changed what a report says (a new dongle, one back online, …). */
  hear(h: Heard, now: number): boolean {
    const id = h.announce.deviceId;
    let entry = this.#entries.get(id);
    const before = entry ? this.comparable(id, entry) : undefined;
    if (!entry) {
      if (this.#entries.size >= MAX_DONGLES) return false;
      entry = {
        announce: h.announce,
        paths: new Map(),
        primary: h.iface,
        lastSeenAt: now,
        missed: 0,
        online: true,
      };
      this.#entries.set(id, entry);
    }
    this.#heard.add(id);
    this.#heardPaths.add(`${id}|${h.iface}`);
    entry.announce = h.announce;
    entry.paths.set(h.iface, { lanIp: h.announce.lanIp ?? h.from, from: h.from });
    entry.lastSeenAt = now;
    entry.missed = 0;
    entry.online = true;
    return this.comparable(id, entry) !== before;
  }

  /**
   * Counts a missed scan for every dongle not heard since beginScan (3 in a row and it is offline), and
   * drops the paths a heard dongle was not heard on. The primary interface stays put while it still hears the
   * dongle, so reports do not flap with the order answers arrive in.
   */
  endScan(now: number): void {
    for (const [id, entry] of this.#entries) {
      if (this.#heard.has(id)) {
        for (const iface of entry.paths.keys()) {
          if (!this.#heardPaths.has(`${id}|${iface}`)) entry.paths.delete(iface);
        }
        if (!entry.paths.has(entry.primary)) entry.primary = [...entry.paths.keys()].sort()[0] as string;
        continue;
      }
      entry.missed++;
      if (entry.missed >= MISSED_SCANS_OFFLINE) entry.online = false;
      if (!entry.online && now - entry.lastSeenAt > FORGET_AFTER_MS) this.#entries.delete(id);
    }
  }

  /** Whether the snapshot differs from the last one marked reported (ignoring last_seen_at). */
  get dirty(): boolean {
    return this.fingerprint() !== this.#reported;
  }

  markReported(snapshot: SeenDongle[]): void {
    this.#reported = JSON.stringify(snapshot.map(withoutTime));
  }

  /** The report body: one entry per device_id, its primary interface's lan_ip. */
  snapshot(): SeenDongle[] {
    return [...this.#entries.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, e]) => this.view(id, e));
  }

  private view(id: string, e: Entry): SeenDongle {
    const path = e.paths.get(e.primary) ?? [...e.paths.values()][0];
    return {
      device_id: id,
      lan_ip: path?.lanIp ?? '0.0.0.0',
      udp_port: e.announce.udpPort && e.announce.udpPort > 0 ? e.announce.udpPort : 50000,
      fw_build: e.announce.fwBuild?.slice(0, 100) ?? null,
      proto_ver: e.announce.protoVer ?? null,
      capabilities: e.announce.capabilities ?? null,
      pairing_state: e.announce.pairingState === 1 ? 'pairing' : 'normal',
      interface: e.primary,
      online: e.online,
      last_seen_at: new Date(e.lastSeenAt).toISOString(),
      ...(e.announce.authFailures
        ? { auth_failures: { lan_ip: e.announce.authFailures.ip, per_minute: e.announce.authFailures.count } }
        : {}),
    };
  }

  /** Where REMP requests to a dongle go: the source address of its latest ANNOUNCE, its REMP port. */
  target(deviceId: string): DongleTarget | undefined {
    const e = this.#entries.get(deviceId);
    const path = e && (e.paths.get(e.primary) ?? [...e.paths.values()][0]);
    if (!e || !path) return undefined;
    return {
      address: path.from,
      port: e.announce.udpPort && e.announce.udpPort > 0 ? e.announce.udpPort : 50000,
    };
  }

  /** Every interface a dongle was heard on in the last scan that heard it, with the lan_ip each reported. */
  paths(deviceId: string): Array<{ iface: string; lanIp: string }> {
    const e = this.#entries.get(deviceId);
    return e ? [...e.paths].map(([iface, p]) => ({ iface, lanIp: p.lanIp })) : [];
  }

  get size(): number {
    return this.#entries.size;
  }

  /** What a report carries, minus the time of the last sighting (which changes on every scan). */
  private fingerprint(): string {
    return JSON.stringify(this.snapshot().map(withoutTime));
  }

  private comparable(id: string, entry: Entry): string {
    return JSON.stringify(withoutTime(this.view(id, entry)));
  }
}

const withoutTime = ({ last_seen_at: _t, ...rest }: SeenDongle) => rest;
