import { createHash, randomInt } from 'node:crypto';
import type { DataCloudMessage, Side } from '@canopy/protocol/relay';
import {
  batchCount,
  DELIVER_EPOCH_AT,
  DELIVER_SEQ_AT,
  deliverFromFrames,
  encodeFrames,
  MAX_BATCH,
  type RelayFrame,
} from '@canopy/protocol/relay';
import { ACCOUNT_DISABLED_CLOSE, listenUserStatus, type UserStatusChange } from '../accounts/status-changes';
import type { StreamEngine, StreamReader, Unsubscribe } from '../engine';
import { nextStreamId, streamIdTime } from '../engine/stream-id';
import type { Logger } from '../log';
import { DIRECTIONS, type Direction, fromSide, relayKeys as K, otherSide, receiverOf, toSide } from './keys';
import { Pacer } from './pacer';

/** One node's /ws/data connection, as the gateway hands it over. */
export interface DataConnection {
  readonly id: string;
  readonly agentId: string;
  readonly userId: string;
  send(data: Buffer | string): void;
  /** Bytes queued in the socket, not yet sent. */
  bufferedAmount(): number;
  /** Stops reading from the node (TCP pushes back on it) until resume(). */
  pause(): void;
  resume(): void;
  /** Ends the connection (its gateway then reports it `disconnected`). */
  close(code: number, reason: string): void;
}

export type RelayGroup = {
  id: string;
  owner_user_id: string;
  mode: 'inactive' | 'active' | 'degraded';
  a: { dongle_id: string; device_id: string };
  b: { dongle_id: string; device_id: string };
};

export type RelayDeps = {
  engine: StreamEngine;
  log: Logger;
  now: () => number;
  /**
   * Every group that is not inactive and whose owner's account is active, and the way to say a group is
   * degraded or whole again.
   */
  groups: {
    bridged(): Promise<RelayGroup[]>;
    setMode(groupId: string, mode: 'active' | 'degraded', reason: string): Promise<void>;
  };
  /**
   * Which node reaches a dongle now (throws when none does), and a way to open the dongle's token for that node
   * (throws unless the dongle is CLAIMED_ACTIVE; counts towards SECURITY_HOLD 3b).
   */
  dongles: {
    route(
      userId: string,
      dongleId: string,
      prefer?: string,
    ): Promise<{ agentId: string; token: () => Promise<string> }>;
    /** The dongle rejected the token it was given at `givenAt` (reset, unless it was paired again since). */
    rejected?(dongleId: string, givenAt: Date): Promise<void>;
  };
  /** Audits a trim of the buffer (an operational event, spec 002 §13.3.4). */
  audit(groupId: string, details: Record<string, unknown>): Promise<void>;
  /** Frames that entered the relay, for the live console (which samples them). */
  onFrames?: (
    groupId: string,
    dongles: { from: string; to: string | undefined },
    from: Side,
    message: Buffer,
  ) => void;
  /** The group's mode, offline side and backlog, for its live console. */
  onGroupState?: (state: GroupState) => void;
  replayRate: number;
  maxFrames: number;
  maxAgeMs: number;
  /** How often sides are (re)assigned and modes checked. */
  reconcileMs?: number;
};

export type GroupState = {
  group_id: string;
  mode: 'active' | 'degraded';
  offline_side: Side | null;
  offline_sides: Side[];
  buffered_frames_a_to_b: number;
  buffered_frames_b_to_a: number;
  pressure: boolean;
};

type Inflight = { id: string; epoch: number; lastSeq: number };
type Attachment = {
  groupId: string;
  side: Side;
  dongleId: string;
  conn: DataConnection;
  reader: StreamReader;
  inflight: Inflight[];
  stopped: boolean;
  loop: Promise<void>;
  /** SHA-256 of the token the node was given (never the token), to tell when the dongle has a new one. */
  tokenHash: string;
  /** When the token was opened for the node. */
  givenAt: number;
  /** When the node said the dongle rejected that token, and when the relay last looked for a new one. */
  rejectedAt: number | null;
  checkedAt: number;
};

/** FRAMES messages of one direction waiting for the buffer, in the order they came. */
type Queued = {
  message: Buffer;
  count: number;
  /** The node they came from (held against its backpressure), or none for frames typed in the console. */
  conn: DataConnection | null;
  /** Told when they are in the buffer, or why not (typed frames wait for it). */
  done?: (err?: unknown) => void;
};

type DirectionState = {
  queue: Queued[];
  /** The writer of this direction, while it runs (one at a time keeps the order). */
  writing: Promise<void> | null;
  epoch?: number;
  lastSeq: number;
  appends: number;
  lastCheck: number;
};

const WS_HIGH_WATER = 4 * 1024 * 1024;
/** A node's frames held in memory before they are in the buffer: pause reading past this, resume under the other. */
const HOLD_PAUSE = 50_000;
const HOLD_RESUME = 20_000;
/** The same for all nodes of this instance together. */
const HOLD_TOTAL_PAUSE = 1_000_000;
const HOLD_TOTAL_RESUME = 500_000;
/** An entry older than this when read is backlog, sent at the replay rate; newer ones go at once. */
const BACKLOG_AGE_MS = 1000;
/** A side whose presence key is older than this is offline. */
const PRESENCE_STALE_MS = 10_000;
/**
 * A side whose dongle rejected its token: how often the relay looks for a new token (the dongle paired again)
 * to join with. Never the same token again: every try would count as a failure against the dongle.
 */
const REJECTED_RECHECK_MS = 10_000;
/** Above this share of a limit the buffer reports pressure (a warning before any trim). */
const PRESSURE_SHARE = 0.8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const key = (groupId: string, side: Side) => `${groupId}:${side}`;

/**
 * The CAN relay of spec 002 §13.3 on one cloud instance. Frames from the node bridging one side of a group are
 * numbered per direction and appended to that direction's stream (the buffer); whichever instance holds the
 * other side's node reads the stream and delivers, in order, at the replay rate when behind; the node's ACKs
 * trim what was delivered. A side without a node leaves its inbound stream filling (DEGRADED, buffered, not
 * dropped) until the retention limits, where the oldest frames are trimmed and the trim is audited.
 */
export class Relay {
  private readonly conns = new Map<string, DataConnection>();
  private readonly attachments = new Map<string, Attachment>();
  private readonly directions = new Map<string, DirectionState>();
  /** What each group's console was last told (group_state), by this instance. */
  private readonly said = new Map<string, string>();
  /** The bridged groups as of the last assignment. */
  private known = new Map<string, RelayGroup>();
  private readonly stats = { up: 0, down: 0, dropped: 0, trimmed: 0, pauses: 0, lost: 0 };
  private failures = { loggedAt: Number.NEGATIVE_INFINITY, messages: 0, frames: 0 };
  /** Frames received from each connection and not yet in the buffer; connections paused for it. */
  private readonly held = new Map<DataConnection, number>();
  private readonly paused = new Set<DataConnection>();
  private heldTotal = 0;
  private reconciling: Promise<void> | null = null;
  private again = false;
  private readonly timer: NodeJS.Timeout;
  private readonly accountWatch: Promise<Unsubscribe>;
  private closed = false;

  constructor(private readonly deps: RelayDeps) {
    this.timer = setInterval(() => void this.reconcile(), deps.reconcileMs ?? 2000);
    this.timer.unref();
    this.accountWatch = listenUserStatus(deps.engine, (change) => this.accountChanged(change)).catch(
      (err) => {
        // The 2 s reconcile still stops bridging their groups; only their data connections stay open.
        deps.log.warn(
          { err: String(err) },
          'cannot hear account changes; the relay checks every 2 s instead',
        );
        return async () => {};
      },
    );
  }

  get counters() {
    return { ...this.stats, connections: this.conns.size, attachments: this.attachments.size };
  }

  connected(conn: DataConnection): void {
    this.conns.set(conn.agentId, conn);
    void this.reconcile();
  }

  disconnected(conn: DataConnection): void {
    if (this.conns.get(conn.agentId) === conn) this.conns.delete(conn.agentId);
    this.paused.delete(conn);
    for (const att of [...this.attachments.values()]) if (att.conn === conn) this.detach(att, null);
    void this.reconcile();
  }

  /** Frames from a node: numbered and buffered in the order they came, per direction. */
  frames(conn: DataConnection, groupId: string, from: Side, message: Buffer): void {
    const att = this.attachments.get(key(groupId, from));
    const count = batchCount(message);
    if (!att || att.conn !== conn) {
      this.stats.dropped += count;
      return;
    }
    const direction = fromSide(from);
    const state = this.direction(groupId, direction);
    // Backpressure (spec 002 §13.3.6): frames not yet in the buffer are held in memory here; past a limit the
    // node's socket is no longer read, so TCP slows the node down instead of this process running out of memory.
    this.holding(conn, count);
    this.enqueue(groupId, direction, state, { message, count, conn });
    const to = this.known.get(groupId)?.[otherSide(from)].dongle_id;
    this.deps.onFrames?.(groupId, { from: att.dongleId, to }, from, message);
  }

  /**
   * Frames typed in a group console (owner only, audited by the caller): into the buffer towards `to`, numbered
   * and ordered with the frames the other side's dongle sends, as if that dongle had read them.
   */
  async inject(groupId: string, to: Side, frames: RelayFrame[]): Promise<void> {
    const from = otherSide(to);
    const message = encodeFrames(groupId, from, frames);
    const direction = fromSide(from);
    const state = this.direction(groupId, direction);
    await new Promise<void>((resolve, reject) =>
      this.enqueue(groupId, direction, state, {
        message,
        count: frames.length,
        conn: null,
        done: (err) => (err === undefined ? resolve() : reject(err)),
      }),
    );
  }

  /**
   * Queues frames for the buffer. One writer per direction keeps their order; what arrives while it writes
   * waits and goes in together next time — several FRAMES messages merged into one entry of up to MAX_BATCH
   * frames — so under load the buffer, the readers and the receiving node get fewer, fuller entries instead
   * of falling behind one small message at a time. Unloaded, a message goes alone and at once.
   */
  private enqueue(groupId: string, d: Direction, state: DirectionState, item: Queued): void {
    state.queue.push(item);
    if (!state.writing) this.startWriter(groupId, d, state);
  }

  private startWriter(groupId: string, d: Direction, state: DirectionState): void {
    state.writing = this.write(groupId, d, state).finally(() => {
      state.writing = null;
      // Something queued between the writer's last look and now (a microtask, not a socket event) goes too.
      if (state.queue.length > 0) this.startWriter(groupId, d, state);
    });
  }

  private async write(groupId: string, d: Direction, state: DirectionState): Promise<void> {
    while (state.queue.length > 0) {
      let n = 1;
      let frames = (state.queue[0] as Queued).count;
      while (n < state.queue.length && frames + (state.queue[n] as Queued).count <= MAX_BATCH) {
        frames += (state.queue[n] as Queued).count;
        n += 1;
      }
      const batch = state.queue.splice(0, n);
      let failure: unknown;
      try {
        await this.store(
          groupId,
          d,
          batch.map((q) => q.message),
          frames,
        );
      } catch (err) {
        failure = err ?? new Error('the buffer write failed');
        // Typed frames get the error from inject(); frames from nodes are counted and logged as lost.
        const fromNodes = batch.filter((q) => !q.done);
        if (fromNodes.length > 0) {
          this.bufferFailed(
            err,
            groupId,
            d,
            fromNodes.length,
            fromNodes.reduce((sum, q) => sum + q.count, 0),
          );
        }
      }
      for (const q of batch) {
        if (q.conn) this.holding(q.conn, -q.count);
        q.done?.(failure);
      }
    }
  }

  /** One line a second at most while the buffer cannot be written (a Redis outage), with what was lost. */
  private bufferFailed(
    err: unknown,
    groupId: string,
    direction: Direction,
    messages: number,
    count: number,
  ): void {
    this.stats.lost += count;
    this.failures.frames += count;
    this.failures.messages += messages;
    const t = this.deps.now();
    if (t - this.failures.loggedAt < 1000) return;
    this.deps.log.error(
      { err, group_id: groupId, direction, messages: this.failures.messages, frames: this.failures.frames },
      'could not buffer frames; they are lost',
    );
    this.failures = { loggedAt: t, messages: 0, frames: 0 };
  }

  private holding(conn: DataConnection, delta: number): void {
    const held = (this.held.get(conn) ?? 0) + delta;
    if (held <= 0) this.held.delete(conn);
    else this.held.set(conn, held);
    this.heldTotal += delta;
    const over = held > HOLD_PAUSE || this.heldTotal > HOLD_TOTAL_PAUSE;
    if (delta > 0 && over && !this.paused.has(conn)) {
      this.paused.add(conn);
      conn.pause();
      this.stats.pauses += 1;
      this.deps.log.warn(
        { agent_id: conn.agentId, frames: held, all_frames: this.heldTotal },
        'relay pressure: reading from a node paused',
      );
    } else if (
      delta < 0 &&
      this.paused.has(conn) &&
      held < HOLD_RESUME &&
      this.heldTotal < HOLD_TOTAL_RESUME
    ) {
      this.paused.delete(conn);
      conn.resume();
    }
    if (delta < 0 && this.heldTotal < HOLD_TOTAL_RESUME && this.paused.size > 0) {
      // Connections paused for the total (they hold little themselves) go on once the total is down.
      for (const other of [...this.paused]) {
        if ((this.held.get(other) ?? 0) < HOLD_RESUME) {
          this.paused.delete(other);
          other.resume();
        }
      }
    }
  }

  /**
   * A node cannot bridge its side. TOKEN_REJECTED: the dongle was reset or paired again; the side is joined
   * again once the dongle has a new token (see newTokenAfterRejection).
   */
  sideError(conn: DataConnection, groupId: string, side: Side, code: string): void {
    const att = this.attachments.get(key(groupId, side));
    if (!att || att.conn !== conn || code !== 'TOKEN_REJECTED' || att.rejectedAt !== null) return;
    att.rejectedAt = this.deps.now();
    // The side cannot relay: the group is degraded at once, and the dongle asks its owner to pair it again.
    this.deps.log.warn(
      { group_id: groupId, side, dongle_id: att.dongleId },
      'the dongle rejected its token: the side is down until it is paired again',
    );
    void (this.deps.dongles.rejected?.(att.dongleId, new Date(att.givenAt)) ?? Promise.resolve())
      .catch((err) =>
        this.deps.log.warn({ err: String(err), dongle_id: att.dongleId }, 'could not mark a reset dongle'),
      )
      .finally(() => void this.reconcile());
  }

  /** For a side whose token was rejected: the dongle's token if it changed since (checked now and then). */
  private async newTokenAfterRejection(
    att: Attachment,
    openToken: () => Promise<string>,
  ): Promise<string | null> {
    const t = this.deps.now();
    if (att.rejectedAt === null || t - att.checkedAt < REJECTED_RECHECK_MS) return null;
    att.checkedAt = t;
    const token = await openToken().catch(() => null);
    return token !== null && hashToken(token) !== att.tokenHash ? token : null;
  }

  /** A node's ACK: what it wrote to its dongle leaves the buffer. */
  ack(conn: DataConnection, groupId: string, side: Side, epoch: number, seq: number): void {
    const att = this.attachments.get(key(groupId, side));
    if (!att || att.conn !== conn) return;
    let upto: Inflight | undefined;
    const laterEpoch = () => att.inflight.some((e) => e.epoch === epoch);
    while (att.inflight.length > 0) {
      const head = att.inflight[0] as Inflight;
      const done = head.epoch === epoch ? head.lastSeq <= seq : laterEpoch();
      if (!done) break;
      upto = att.inflight.shift();
    }
    const direction = toSide(side);
    const { engine, log } = this.deps;
    void engine
      .setValue(K.acked(groupId, direction), `${epoch}:${seq}`)
      .then(() => (upto ? engine.trimBefore(K.stream(groupId, direction), nextStreamId(upto.id)) : 0))
      .catch((err) => log.warn({ err: String(err), group_id: groupId }, 'could not record an ACK'));
  }

  /** Buffered frames per direction and whether a retention limit is near (for the group page). */
  async buffer(groupId: string): Promise<{ a_to_b: number; b_to_a: number; pressure: boolean }> {
    const [ab, ba] = await Promise.all([this.buffered(groupId, 'a_to_b'), this.buffered(groupId, 'b_to_a')]);
    return { a_to_b: ab.frames, b_to_a: ba.frames, pressure: ab.nearLimit || ba.nearLimit };
  }

  /**
   * What one direction holds, and whether it is past PRESSURE_SHARE of either limit: the frames, or the age
   * of the oldest (a quiet bus reaches the 10 minutes long before the 200,000 frames).
   */
  private async buffered(groupId: string, d: Direction): Promise<{ frames: number; nearLimit: boolean }> {
    const frames = (await this.pending(groupId, d)) ?? 0;
    if (frames === 0) return { frames, nearLimit: false };
    if (frames > this.deps.maxFrames * PRESSURE_SHARE) return { frames, nearLimit: true };
    const { firstId } = await this.deps.engine.streamInfo(K.stream(groupId, d));
    const age = firstId === null ? 0 : this.deps.now() - streamIdTime(firstId);
    return { frames, nearLimit: age > this.deps.maxAgeMs * PRESSURE_SHARE };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await (await this.accountWatch)();
    for (const att of [...this.attachments.values()]) this.detach(att, null);
    await Promise.all([...this.directions.values()].map((d) => d.writing));
  }

  /**
   * A user was disabled: their nodes' data connections on this instance close (they are refused until the
   * account is enabled), and the assignment runs now, without their groups. Enabled again: it runs now, with.
   */
  private accountChanged(change: UserStatusChange): void {
    if (change.status === 'disabled') {
      for (const conn of [...this.conns.values()]) {
        if (conn.userId !== change.user_id) continue;
        this.deps.log.info(
          { agent_id: conn.agentId },
          'account disabled; closing the node’s data connection',
        );
        conn.close(ACCOUNT_DISABLED_CLOSE, 'account disabled');
      }
    }
    void this.reconcile();
  }

  // ---- assignment: which node bridges which side ----

  /** Runs the assignment now (again once more if it is running). */
  reconcile(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.reconciling) {
      this.again = true;
      return this.reconciling;
    }
    this.reconciling = (async () => {
      do {
        this.again = false;
        await this.reconcileOnce().catch((err) =>
          this.deps.log.warn({ err: String(err) }, 'relay assignment failed; trying again shortly'),
        );
      } while (this.again && !this.closed);
      this.reconciling = null;
    })();
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    const { groups, dongles, engine, now } = this.deps;
    const bridged = await groups.bridged();
    this.known = new Map(bridged.map((g) => [g.id, g]));
    const wanted = new Set<string>();
    for (const group of bridged) {
      for (const side of ['a', 'b'] as const) {
        const dongleId = group[side].dongle_id;
        // Sticky: the node bridging the side now (here or on another instance) keeps it while it hears the dongle.
        const prefer =
          this.attachments.get(key(group.id, side))?.conn.agentId ??
          (await this.bridgingAgent(group.id, side));
        const route = await dongles.route(group.owner_user_id, dongleId, prefer).catch(() => null);
        const conn = route ? this.conns.get(route.agentId) : undefined;
        if (!route || !conn) continue;
        wanted.add(key(group.id, side));
        const current = this.attachments.get(key(group.id, side));
        let token = route.token;
        if (current && current.conn === conn) {
          const fresh = await this.newTokenAfterRejection(current, route.token);
          if (!fresh) continue;
          this.detach(current, 'the dongle was paired again: joining with its new token');
          token = async () => fresh;
        } else if (current) this.detach(current, 'another node reaches the dongle now');
        await this.attach(group, side, conn, token).catch((err) =>
          this.deps.log.warn({ err: String(err), group_id: group.id, side }, 'could not bridge a group side'),
        );
      }
    }
    for (const att of [...this.attachments.values()]) {
      if (!wanted.has(key(att.groupId, att.side))) this.detach(att, 'the group is no longer bridged here');
    }
    const at = now();
    for (const att of this.attachments.values()) {
      // A side whose dongle refuses its token stays with its node (so that no other node is offered the same
      // token), but is not a working side on any instance.
      const rejected = att.rejectedAt !== null ? { rejected: true } : {};
      await engine.setValue(
        K.side(att.groupId, att.side),
        JSON.stringify({ agent_id: att.conn.agentId, at, ...rejected }),
      );
    }
    for (const group of bridged) {
      const present = await Promise.all(
        (['a', 'b'] as const).map((side) => this.present(group.id, side, at)),
      );
      const mode = present.every(Boolean) ? 'active' : 'degraded';
      const offline = (['a', 'b'] as const).filter((_, i) => !present[i]);
      const changed = mode !== group.mode;
      if (changed) {
        await groups.setMode(
          group.id,
          mode,
          mode === 'active' ? 'both sides are online' : `side ${offline.join(' and ')} offline`,
        );
      }
      for (const d of DIRECTIONS) await this.enforceRetention(group.id, d, true);
      const local = this.attachments.has(key(group.id, 'a')) || this.attachments.has(key(group.id, 'b'));
      if (changed || local) await this.announce(group.id, mode, offline, changed);
    }
  }

  /**
   * The group's state for its live console (`group_state`): on a mode change, and while this instance bridges
   * a side whenever the state (the backlog, while it drains) differs from what it last said.
   */
  private async announce(groupId: string, mode: 'active' | 'degraded', offline: Side[], force: boolean) {
    if (!this.deps.onGroupState) return;
    const buffer = await this.buffer(groupId);
    const state: GroupState = {
      group_id: groupId,
      mode,
      offline_side: offline[0] ?? null,
      offline_sides: offline,
      buffered_frames_a_to_b: buffer.a_to_b,
      buffered_frames_b_to_a: buffer.b_to_a,
      pressure: buffer.pressure,
    };
    const said = JSON.stringify(state);
    if (!force && this.said.get(groupId) === said) return;
    this.said.set(groupId, said);
    this.deps.onGroupState(state);
  }

  /** The node some instance said it bridges this side through, if it said so recently. */
  private async bridgingAgent(groupId: string, side: Side): Promise<string | undefined> {
    const raw = await this.deps.engine.getValue(K.side(groupId, side));
    if (!raw) return undefined;
    try {
      const { agent_id, at } = JSON.parse(raw) as { agent_id: string; at: number };
      return this.deps.now() - at < PRESENCE_STALE_MS ? agent_id : undefined;
    } catch {
      return undefined;
    }
  }

  private async present(groupId: string, side: Side, at: number): Promise<boolean> {
    const att = this.attachments.get(key(groupId, side));
    if (att) return att.rejectedAt === null;
    const raw = await this.deps.engine.getValue(K.side(groupId, side));
    if (!raw) return false;
    try {
      const said = JSON.parse(raw) as { at: number; rejected?: boolean };
      return !said.rejected && at - Number(said.at) < PRESENCE_STALE_MS;
    } catch {
      return false;
    }
  }

  private async attach(
    group: RelayGroup,
    side: Side,
    conn: DataConnection,
    openToken: () => Promise<string>,
  ) {
    const token = await openToken();
    const direction = toSide(side);
    const acked = parseAcked(await this.deps.engine.getValue(K.acked(group.id, direction)));
    const att: Attachment = {
      groupId: group.id,
      side,
      dongleId: group[side].dongle_id,
      conn,
      reader: this.deps.engine.openReader(),
      inflight: [],
      stopped: false,
      loop: Promise.resolve(),
      tokenHash: hashToken(token),
      givenAt: this.deps.now(),
      rejectedAt: null,
      checkedAt: 0,
    };
    this.attachments.set(key(group.id, side), att);
    const join: DataCloudMessage = {
      type: 'group_join',
      group_id: group.id,
      side,
      device_id: group[side].device_id,
      token,
      resume: acked,
    };
    conn.send(JSON.stringify(join));
    att.loop = this.deliver(att);
    this.deps.log.info(
      { group_id: group.id, side, agent_id: conn.agentId, resume: acked },
      'bridging a group side',
    );
  }

  private detach(att: Attachment, reason: string | null): void {
    if (this.attachments.get(key(att.groupId, att.side)) === att) {
      this.attachments.delete(key(att.groupId, att.side));
    }
    att.stopped = true;
    void att.reader.close().catch(() => {});
    if (reason) {
      const leave: DataCloudMessage = { type: 'group_leave', group_id: att.groupId, side: att.side, reason };
      att.conn.send(JSON.stringify(leave));
      this.deps.log.info({ group_id: att.groupId, side: att.side, reason }, 'stopped bridging a group side');
    }
  }

  // ---- the two halves of a direction ----

  /** Reads the side's inbound stream from its start (all of it is unacknowledged) and sends it, in order. */
  private async deliver(att: Attachment): Promise<void> {
    const { log, now, replayRate } = this.deps;
    const stream = K.stream(att.groupId, toSide(att.side));
    const pacer = new Pacer(replayRate, now);
    let cursor = '0';
    let failures = 0;
    while (!att.stopped) {
      let entries: Awaited<ReturnType<StreamReader['read']>>;
      try {
        entries = await att.reader.read(stream, cursor, 64, 1000);
        failures = 0;
      } catch (err) {
        if (att.stopped) break;
        if (failures++ % 20 === 0)
          log.warn({ err: String(err), group_id: att.groupId }, 'relay read failed; retrying');
        await sleep(Math.min(2000, 100 * failures));
        continue;
      }
      for (const entry of entries) {
        if (att.stopped) return;
        const count = batchCount(entry.data);
        if (now() - streamIdTime(entry.id) > BACKLOG_AGE_MS) {
          const wait = pacer.take(count);
          if (wait > 0) await sleep(wait);
        }
        while (att.conn.bufferedAmount() > WS_HIGH_WATER && !att.stopped) await sleep(5);
        if (att.stopped) return;
        att.conn.send(entry.data);
        const epoch = entry.data.readUInt32BE(DELIVER_EPOCH_AT);
        const firstSeq = Number(entry.data.readBigUInt64BE(DELIVER_SEQ_AT));
        att.inflight.push({ id: entry.id, epoch, lastSeq: firstSeq + count - 1 });
        this.stats.down += count;
        cursor = entry.id;
      }
    }
  }

  private direction(groupId: string, d: Direction): DirectionState {
    const k = `${groupId}:${d}`;
    let state = this.directions.get(k);
    if (!state) {
      state = { queue: [], writing: null, lastSeq: 0, appends: 0, lastCheck: 0 };
      this.directions.set(k, state);
    }
    return state;
  }

  /** Numbers `count` frames (the FRAMES messages in `frames`) and appends them as one entry. */
  private async store(groupId: string, d: Direction, frames: Buffer[], count: number): Promise<void> {
    const { engine, log } = this.deps;
    const state = this.direction(groupId, d);
    // Numbered and appended in one step (one Redis round trip): the counter, the epoch — a new one when the
    // counter just started (the first frames ever, or a buffer lost with its Redis) — and the entry.
    const numbered = await engine.appendNumbered(K.stream(groupId, d), {
      counterKey: K.seq(groupId, d),
      epochKey: K.epoch(groupId, d),
      count,
      epochIfNew: randomInt(1, 2 ** 32 - 1),
      data: deliverFromFrames(frames, receiverOf(d), 0, 0),
      epochOffset: DELIVER_EPOCH_AT,
      seqOffset: DELIVER_SEQ_AT,
    });
    const last = numbered.last;
    state.epoch = numbered.epoch;
    if (numbered.epochStarted) {
      log.info({ group_id: groupId, direction: d, epoch: state.epoch }, 'relay numbering starts');
    }
    this.stats.up += count;
    state.lastSeq = last;
    state.appends += 1;
    await this.enforceRetention(groupId, d, false);
  }

  /** Frames buffered in a direction and not yet written to the receiving dongle (null: nothing known). */
  private async pending(groupId: string, d: Direction): Promise<number | null> {
    const { engine } = this.deps;
    const [seq, acked, floor] = await Promise.all([
      engine.getValue(K.seq(groupId, d)),
      engine.getValue(K.acked(groupId, d)),
      engine.getValue(K.floor(groupId, d)),
    ]);
    if (seq === null) return null;
    const epoch = await engine.getValue(K.epoch(groupId, d));
    const a = parseAcked(acked);
    const done = Math.max(a.epoch === Number(epoch) ? a.seq : 0, Number(floor ?? 0));
    return Math.max(0, Number(seq) - done);
  }

  /**
   * Retention (spec 002 §13.3.4): past maxFrames buffered or maxAgeMs old, the oldest entries go — only then —
   * and the trim is logged and audited with its counts. Checked every 64 appends or every second.
   */
  private async enforceRetention(groupId: string, d: Direction, force: boolean): Promise<void> {
    const state = this.direction(groupId, d);
    const t = this.deps.now();
    if (!force && state.appends % 64 !== 0 && t - state.lastCheck < 1000) return;
    state.lastCheck = t;
    const { engine, maxFrames, maxAgeMs } = this.deps;
    const stream = K.stream(groupId, d);
    const pending = await this.pending(groupId, d);
    const info = await engine.streamInfo(stream);
    if (pending === null || info.firstId === null) return;
    const tooMany = pending - maxFrames;
    const tooOld = t - streamIdTime(info.firstId) > maxAgeMs;
    if (tooMany <= 0 && !tooOld) return;
    // Trim to 90 % of the frame limit (so that a steady overflow trims in chunks, not per batch), and
    // everything past the age limit.
    const dropFrames = tooMany > 0 ? pending - Math.floor(maxFrames * 0.9) : 0;
    let dropped = 0;
    let entries = 0;
    let lastDropped: { id: string; lastSeq: number } | null = null;
    let after = '0';
    while (true) {
      const batch = await engine.range(stream, after, 256);
      if (batch.length === 0) break;
      let stop = false;
      for (const e of batch) {
        const old = t - streamIdTime(e.id) > maxAgeMs;
        if (dropped >= dropFrames && !old) {
          stop = true;
          break;
        }
        const count = batchCount(e.data);
        dropped += count;
        entries += 1;
        lastDropped = { id: e.id, lastSeq: Number(e.data.readBigUInt64BE(DELIVER_SEQ_AT)) + count - 1 };
      }
      if (stop) break;
      after = (batch.at(-1) as { id: string }).id;
    }
    if (!lastDropped) return;
    await engine.trimBefore(stream, nextStreamId(lastDropped.id));
    await engine.setValue(K.floor(groupId, d), String(lastDropped.lastSeq));
    this.stats.trimmed += dropped;
    const details = {
      direction: d,
      frames: dropped,
      entries,
      reason: tooMany > 0 ? 'max_frames' : 'max_age',
      buffered_before: pending,
      max_frames: maxFrames,
      max_age_s: maxAgeMs / 1000,
      through_seq: lastDropped.lastSeq,
    };
    this.deps.log.warn({ group_id: groupId, ...details }, 'BUFFER_PRESSURE: oldest buffered frames trimmed');
    await this.deps.audit(groupId, details);
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function parseAcked(raw: string | null): { epoch: number; seq: number } {
  const m = /^(\d+):(\d+)$/.exec(raw ?? '');
  return m ? { epoch: Number(m[1]), seq: Number(m[2]) } : { epoch: 0, seq: 0 };
}
