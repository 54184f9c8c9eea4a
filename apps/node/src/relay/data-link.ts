import {
  type DataCloudMessage,
  type DataNodeMessage,
  decodeRelay,
  encodeAck,
  encodeFrames,
  MAX_BATCH,
  type RelayFrame,
  type Side,
} from '@canopy/protocol/relay';
import type { CanFrame, RempHeader } from '@canopy/remp';
import type { Logger } from 'pino';
import type { DongleTarget } from '../bridge/registry';
import type { RempClient } from '../bridge/remp-client';
import { backoffDelay } from '../link/backoff';
import { type Clock, systemClock } from '../link/clock';
import { DataConnection } from './connection';
import { GroupSide, type SideStatus } from './side';

/** Above this many bytes waiting in the WebSocket, frames going up are dropped (and counted), not queued. */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const STOP_CLOSE_MS = 1000;
const DROP_LOG_MS = 1000;

export type DataLinkOptions = {
  /** ws(s)://<cloud>/ws/data */
  url: string;
  agentToken: string;
  fingerprint: string;
  log: Logger;
  remp: Pick<RempClient, 'request' | 'message' | 'sendFrame'>;
  /** Where a dongle is (the bridge's registry). */
  targetOf: (deviceId: string) => DongleTarget | undefined;
  clock?: Clock;
  random?: () => number;
  handshakeTimeoutMs?: number;
  pingIntervalMs?: number;
};

type Drops = {
  /** Frames from a dongle while the data link was down (the cloud buffers only what reaches it). */
  upLinkDown: number;
  /** Frames from a dongle while the WebSocket had MAX_BUFFERED_BYTES waiting. */
  upBackpressure: number;
  /** Frames from a dongle this node bridges no side for. */
  upUnjoined: number;
  /** Frames from the cloud that did not fit in a side's queue (reported as a gap). */
  downQueueFull: number;
  /** Frames from the cloud for a side this node has not joined. */
  downUnjoined: number;
};

/** What /health shows as `relay` (no tokens). */
export type RelayStatus = {
  enabled: boolean;
  connected: boolean;
  url: string;
  lastConnectedAt: string | null;
  reconnects: number;
  lastError: string | null;
  sides: SideStatus[];
  frames: { up: number; down: number };
  drops: Drops;
  duplicates: number;
  gaps: number;
  missing: number;
  malformed: number;
};

const sideKey = (groupId: string, side: Side) => `${groupId}:${side}`;
const addressKey = (t: DongleTarget) => `${t.address}:${t.port}`;

/**
 * canopy-node's data plane (spec 002 §13.3): one WebSocket to the cloud's /ws/data, kept open with backoff
 * while the daemon runs. Per group side the cloud joins: the dongle's frames go up in FRAMES batches, the
 * cloud's DELIVERs go down to the dongle in order, acknowledged.
 */
export class DataLink {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #sides = new Map<string, GroupSide>();
  /**
   * address:port of a dongle → the side its frames belong to; `detached` while the connection that joined it
   * is down (its frames are dropped as such until the cloud joins the side again).
   */
  readonly #routes = new Map<string, GroupSide | 'detached'>();
  readonly #drops: Drops = {
    upLinkDown: 0,
    upBackpressure: 0,
    upUnjoined: 0,
    downQueueFull: 0,
    downUnjoined: 0,
  };
  /** Counts of sides that have left, so the totals survive them. */
  readonly #past = { down: 0, duplicates: 0, gaps: 0, missing: 0 };
  #conn: DataConnection | null = null;
  #ready = false;
  #maxBatch = MAX_BATCH;
  #running = false;
  #attempt = 0;
  #retryTimer: unknown = null;
  #reconnects = 0;
  #lastConnectedAt: number | null = null;
  #lastError: string | null = null;
  #failuresLogged = 0;
  #framesUp = 0;
  #malformed = 0;
  #dropTimer: unknown = null;
  #dropsLogged: Drops = { ...this.#drops };

  constructor(private readonly options: DataLinkOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log.child({ component: 'relay' });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#log.info({ url: this.options.url }, 'data link starting');
    this.connect();
  }

  /** Sends what waits (frames up, last ACKs), closes the connection, forgets every token. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#retryTimer !== null) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    for (const side of [...this.#sides.values()]) this.leave(side, true);
    this.#routes.clear();
    if (this.#dropTimer !== null) this.#clock.clearTimeout(this.#dropTimer);
    this.#dropTimer = null;
    const conn = this.#conn;
    this.#conn = null;
    this.#ready = false;
    await conn?.close(1000, 'the node is stopping', STOP_CLOSE_MS);
  }

  /** A CAN frame a dongle sent to this node's REMP socket (RempClient onFrame). */
  readonly onFrame = (from: DongleTarget, header: RempHeader, frame: CanFrame): void => {
    const side = this.#routes.get(addressKey(from));
    if (side && side !== 'detached') side.frame(header, frame);
    // A dongle may send its bus here without a group (this node was the last to send it a command): not news.
    else if (side === 'detached' && !this.#ready) this.drop('upLinkDown', 1);
    else this.#drops.upUnjoined++;
  };

  status(): RelayStatus {
    const sides = [...this.#sides.values()].map((s) => s.status());
    const sum = (pick: (s: SideStatus) => number) => sides.reduce((n, s) => n + pick(s), 0);
    return {
      enabled: this.#running,
      connected: this.#ready && (this.#conn?.open ?? false),
      url: this.options.url,
      lastConnectedAt: this.#lastConnectedAt === null ? null : new Date(this.#lastConnectedAt).toISOString(),
      reconnects: this.#reconnects,
      lastError: this.#lastError,
      sides,
      frames: { up: this.#framesUp, down: this.#past.down + sum((s) => s.framesDown) },
      drops: { ...this.#drops },
      duplicates: this.#past.duplicates + sum((s) => s.duplicates),
      gaps: this.#past.gaps + sum((s) => s.gaps),
      missing: this.#past.missing + sum((s) => s.missing),
      malformed: this.#malformed,
    };
  }

  // ---- the connection ----

  private connect(): void {
    this.#retryTimer = null;
    if (!this.#running) return;
    this.#attempt++;
    const conn = new DataConnection(
      {
        url: this.options.url,
        agentToken: this.options.agentToken,
        fingerprint: this.options.fingerprint,
        clock: this.#clock,
        log: this.#log,
        handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? 10_000,
        pingIntervalMs: this.options.pingIntervalMs ?? 15_000,
      },
      {
        onOpen: () => undefined,
        onText: (message) => this.onText(conn, message),
        onBinary: (data) => this.onBinary(conn, data),
        onClose: (detail, wasOpen) => this.onClose(conn, detail, wasOpen),
      },
    );
    this.#conn = conn;
  }

  private onClose(conn: DataConnection, detail: string, wasOpen: boolean): void {
    if (this.#conn !== conn) return;
    this.#conn = null;
    const wasReady = this.#ready;
    this.#ready = false;
    // The cloud detaches every side of a closed connection and joins them again on the next one.
    for (const side of [...this.#sides.values()]) this.drop('upLinkDown', this.leave(side, false));
    this.#lastError = detail;
    if (!this.#running) return;
    const delay = backoffDelay(this.#attempt, this.options.random);
    if (wasReady || this.#failuresLogged === 0) {
      this.#log.warn(
        { detail, retry_in_ms: delay },
        wasOpen ? 'data link lost; reconnecting' : 'data link could not connect; retrying',
      );
    } else {
      this.#log.debug({ detail, retry_in_ms: delay }, 'data link still not connected');
    }
    this.#failuresLogged++;
    this.#retryTimer = this.#clock.setTimeout(() => this.connect(), delay);
  }

  private onText(conn: DataConnection, message: DataCloudMessage): void {
    if (this.#conn !== conn) return;
    switch (message.type) {
      case 'data_welcome': {
        if (this.#lastConnectedAt !== null) this.#reconnects++;
        this.#ready = true;
        this.#attempt = 0;
        this.#failuresLogged = 0;
        this.#lastConnectedAt = this.#clock.now();
        this.#maxBatch = Math.min(MAX_BATCH, message.max_batch);
        for (const side of this.#sides.values()) side.limitBatch(this.#maxBatch);
        this.#log.info({ max_batch: this.#maxBatch }, 'data link connected');
        return;
      }
      case 'group_join': {
        const key = sideKey(message.group_id, message.side);
        const previous = this.#sides.get(key);
        if (previous) this.leave(previous, true);
        const side = new GroupSide(message, {
          clock: this.#clock,
          log: this.#log,
          remp: this.options.remp,
          targetOf: this.options.targetOf,
          route: (s, target) => this.route(s, target),
          sendFrames: (groupId, from, frames) => this.sendFrames(groupId, from, frames),
          sendAck: (groupId, s, at) => this.sendBinary(encodeAck({ groupId, side: s, ...at })),
          sendMessage: (m) => this.sendJson(m),
          maxBatch: this.#maxBatch,
        });
        this.#sides.set(key, side);
        this.#log.info(
          {
            group_id: message.group_id,
            side: message.side,
            device_id: message.device_id,
            resume: message.resume,
          },
          'joined a group side',
        );
        side.start();
        return;
      }
      case 'group_leave': {
        const side = this.#sides.get(sideKey(message.group_id, message.side));
        if (!side) return;
        this.leave(side, true);
        this.#log.info(
          { group_id: message.group_id, side: message.side, reason: message.reason },
          'left a group side',
        );
        return;
      }
    }
  }

  private onBinary(conn: DataConnection, data: Buffer): void {
    if (this.#conn !== conn) return;
    const decoded = decodeRelay(data);
    if (!decoded.ok || decoded.value.kind !== 'deliver') {
      this.#malformed++;
      if (this.#malformed % 100 === 1) {
        this.#log.warn(
          { code: decoded.ok ? 'BAD_KIND' : decoded.error.code, count: this.#malformed },
          'ignored a binary data-link message that is not a DELIVER',
        );
      }
      return;
    }
    const m = decoded.value;
    const side = this.#sides.get(sideKey(m.groupId, m.to));
    if (!side) {
      this.drop('downUnjoined', m.frames.length);
      return;
    }
    this.drop('downQueueFull', side.deliver(m.epoch, m.firstSeq, m.frames));
  }

  // ---- sending ----

  private sendFrames(groupId: string, from: Side, frames: RelayFrame[]): void {
    const conn = this.#conn;
    if (!conn || !this.#ready || !conn.open) {
      this.drop('upLinkDown', frames.length);
      return;
    }
    if (conn.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.drop('upBackpressure', frames.length);
      return;
    }
    conn.send(encodeFrames(groupId, from, frames));
    this.#framesUp += frames.length;
  }

  private sendBinary(data: Buffer): void {
    if (this.#ready) this.#conn?.send(data);
  }

  private sendJson(message: DataNodeMessage): void {
    if (this.#ready) this.#conn?.send(JSON.stringify(message));
  }

  // ---- sides ----

  /** Stops a side; returns the frames it dropped. */
  private leave(side: GroupSide, flush: boolean): number {
    const s = side.status();
    const address = s.dongle;
    const dropped = side.close(flush);
    if (!flush && address && !this.#routes.has(address)) this.#routes.set(address, 'detached');
    if (this.#sides.get(sideKey(side.groupId, side.side)) === side) {
      this.#sides.delete(sideKey(side.groupId, side.side));
    }
    this.#past.down += s.framesDown;
    this.#past.duplicates += s.duplicates;
    this.#past.gaps += s.gaps;
    this.#past.missing += s.missing;
    return dropped;
  }

  private route(side: GroupSide, target: DongleTarget | null): void {
    for (const [key, s] of this.#routes) if (s === side) this.#routes.delete(key);
    if (target) this.#routes.set(addressKey(target), side);
  }

  /** Counts dropped frames; one log line a second at most says how many and why. */
  private drop(reason: keyof Drops, count: number): void {
    if (count <= 0) return;
    this.#drops[reason] += count;
    if (this.#dropTimer !== null) return;
    this.#dropTimer = this.#clock.setTimeout(() => {
      this.#dropTimer = null;
      const since: Partial<Drops> = {};
      for (const k of Object.keys(this.#drops) as Array<keyof Drops>) {
        const n = this.#drops[k] - this.#dropsLogged[k];
        if (n > 0) since[k] = n;
      }
      this.#dropsLogged = { ...this.#drops };
      this.#log.warn(
        { dropped: since, totals: this.#drops },
        since.upLinkDown
          ? 'dropped CAN frames: the data link is down, and the cloud buffers only what reaches it'
          : 'dropped CAN frames',
      );
    }, DROP_LOG_MS);
  }
}
