import type { DataCloudMessage, DataNodeMessage, RelayFrame, Side } from '@canopy/protocol/relay';
import { type CanConfig, type CanFrame, FLAG_AUTH_REJECTED, type RempHeader } from '@canopy/remp';
import type { Logger } from 'pino';
import type { DongleTarget } from '../bridge/registry';
import { RempBusyError, type RempClient, RempTimeoutError } from '../bridge/remp-client';
import type { Clock } from '../link/clock';
import { Batcher } from './batcher';
import { Downlink } from './downlink';
import type { Position } from './sequence';

export type GroupJoin = Extract<DataCloudMessage, { type: 'group_join' }>;
export type SideState = 'claiming' | 'bridging' | 'dongle_unknown' | 'token_rejected';

/** While bridging (or rejected), the dongle is asked again this often: it may have restarted, moved, been reset. */
export const RECHECK_MS = 30_000;
/** Retries while the dongle is unknown or silent: soon at first (discovery may not have heard it yet). */
export const RETRY_MS = [500, 1000, 2000, 3000] as const;
/** A dongle not discovered this long after the join is reported unknown (the first scan takes ~2 s). */
export const UNKNOWN_GRACE_MS = 2000;
const BUSY_RETRY_MS = 250;

/** A CAN config `get` changes nothing: its config fields are ignored by the dongle. */
const GET: CanConfig = {
  bitrate: 0,
  samplePointPermille: 0,
  prescaler: 0,
  sjw: 0,
  tseg1: 0,
  tseg2: 0,
  mode: 'normal',
  flags: { useRaw: false, autoRetx: false, txPause: false, protocolExc: false },
};

export interface SideDeps {
  clock: Clock;
  log: Logger;
  remp: Pick<RempClient, 'request' | 'message' | 'sendFrame'>;
  targetOf: (deviceId: string) => DongleTarget | undefined;
  /** Frames from `target` now belong to this side (null: from nowhere any more). */
  route: (side: GroupSide, target: DongleTarget | null) => void;
  sendFrames: (groupId: string, from: Side, frames: RelayFrame[]) => void;
  sendAck: (groupId: string, side: Side, at: Position) => void;
  sendMessage: (message: DataNodeMessage) => void;
  maxBatch: number;
}

export type SideStatus = {
  groupId: string;
  side: Side;
  deviceId: string;
  state: SideState;
  /** Where the dongle is (address:port), once known. */
  dongle: string | null;
  framesUp: number;
  framesDown: number;
  queued: number;
  duplicates: number;
  gaps: number;
  missing: number;
  /** The last frame accepted from the cloud. */
  position: Position;
  joinedAt: string;
};

/**
 * One joined group side: makes this node the dongle's remote (an authenticated CAN config `get`, since a
 * dongle sends its bus frames to the sender of the last authenticated message), batches the dongle's frames
 * up, and writes the cloud's frames down. The token lives here only, in memory, until `close`.
 */
export class GroupSide {
  readonly groupId: string;
  readonly side: Side;
  readonly deviceId: string;
  readonly #deps: SideDeps;
  readonly #log: Logger;
  readonly #joinedAt: number;
  readonly #batcher: Batcher<RelayFrame>;
  readonly #down: Downlink;
  #token: Uint8Array | null;
  #state: SideState = 'claiming';
  #target: DongleTarget | null = null;
  #timer: unknown = null;
  #failures = 0;
  #reported: string | null = null;
  #framesUp = 0;
  #closed = false;

  constructor(join: GroupJoin, deps: SideDeps) {
    this.groupId = join.group_id;
    this.side = join.side;
    this.deviceId = join.device_id;
    this.#token = new Uint8Array(Buffer.from(join.token, 'base64'));
    this.#deps = deps;
    this.#log = deps.log.child({ group_id: join.group_id, side: join.side, device_id: join.device_id });
    this.#joinedAt = deps.clock.now();
    this.#batcher = new Batcher({
      clock: deps.clock,
      maxBatch: deps.maxBatch,
      flush: (frames) => deps.sendFrames(this.groupId, this.side, frames),
    });
    this.#down = new Downlink({
      clock: deps.clock,
      resume: join.resume,
      write: (frame) => this.write(frame),
      ack: (at) => deps.sendAck(this.groupId, this.side, at),
      gap: (gap) => {
        this.#log.warn(
          gap,
          'frames from the cloud are missing: reported, writing on from the ones that came',
        );
        deps.sendMessage({ type: 'gap', group_id: this.groupId, side: this.side, ...gap });
      },
      newEpoch: (change) =>
        this.#log[change.from === 0 ? 'debug' : 'info'](
          change,
          'the cloud numbers this direction afresh (a new epoch): counting from 1',
        ),
    });
  }

  get state(): SideState {
    return this.#state;
  }

  start(): void {
    void this.claim();
  }

  /** A CAN frame the dongle read off its bus. */
  frame(header: RempHeader, frame: CanFrame): void {
    if (this.#closed) return;
    this.#framesUp++;
    this.#batcher.push({
      tsUs: header.timestampUs,
      id: frame.id,
      extended: frame.extended,
      flags: frame.flags,
      data: frame.data,
    });
  }

  /** A DELIVER for this side; returns the frames refused for want of room. */
  deliver(epoch: number, firstSeq: number, frames: RelayFrame[]): number {
    return this.#down.deliver(epoch, firstSeq, frames);
  }

  /** The far end's batch limit (data_welcome). */
  limitBatch(maxBatch: number): void {
    this.#batcher.limit(maxBatch);
  }

  /**
   * Stops the side and forgets the token. `flush`: the frames waiting to go up and the last ACK are sent first
   * (a leave, a stop); without it they are dropped (the connection is gone). Returns the frames dropped.
   */
  close(flush: boolean): number {
    if (this.#closed) return 0;
    let dropped = 0;
    if (flush) {
      this.#batcher.flush();
      this.#down.flushAck();
    } else {
      dropped = this.#batcher.pending;
    }
    this.#closed = true;
    this.#batcher.clear();
    this.#down.close();
    if (this.#timer !== null) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#token?.fill(0);
    this.#token = null;
    this.#deps.route(this, null);
    return dropped;
  }

  status(): SideStatus {
    const counts = this.#down.sequence.counts;
    return {
      groupId: this.groupId,
      side: this.side,
      deviceId: this.deviceId,
      state: this.#state,
      dongle: this.#target ? `${this.#target.address}:${this.#target.port}` : null,
      framesUp: this.#framesUp,
      framesDown: this.#down.counts.written,
      queued: this.#down.queued,
      duplicates: counts.duplicates,
      gaps: counts.gaps,
      missing: counts.missing,
      position: this.#down.sequence.position,
      joinedAt: new Date(this.#joinedAt).toISOString(),
    };
  }

  private write(frame: RelayFrame): boolean {
    const target = this.#target;
    const token = this.#token;
    if (!target || !token) return false;
    return this.#deps.remp.sendFrame(target, { deviceId: this.deviceId, token }, frame);
  }

  private async claim(): Promise<void> {
    this.#timer = null;
    const token = this.#token;
    if (this.#closed || !token) return;
    const target = this.#deps.targetOf(this.deviceId);
    if (!target) {
      this.failed(false, 'this node has not discovered the dongle');
      return;
    }
    this.setTarget(target);
    const { remp } = this.#deps;
    let flags: number;
    try {
      const answer = await remp.request(
        target,
        remp.message(
          { deviceId: this.deviceId, token },
          { type: 'can_config', config: { action: 'get', status: 'ok', config: GET } },
        ),
      );
      if (answer.type !== 'can_config') throw new Error('the dongle answered with something else');
      flags = answer.flags;
    } catch (err) {
      if (this.#closed) return;
      // A configuration request of the cloud is on its way to this dongle: ask right after it.
      if (err instanceof RempBusyError) this.schedule(BUSY_RETRY_MS);
      else
        this.failed(
          true,
          err instanceof RempTimeoutError
            ? 'the dongle does not answer'
            : (err as Error).message.slice(0, 200),
        );
      return;
    }
    if (this.#closed) return;
    if (flags & FLAG_AUTH_REJECTED) this.rejected();
    else this.confirmed();
  }

  private confirmed(): void {
    const was = this.#state;
    this.#state = 'bridging';
    this.#failures = 0;
    this.#reported = null;
    this.#down.writable = true;
    if (was !== 'bridging') {
      this.#log.info(
        { dongle: `${this.#target?.address}:${this.#target?.port}`, resume: this.#down.sequence.position },
        'bridging the dongle: its frames come to this node, the cloud’s go to it',
      );
    }
    this.schedule(RECHECK_MS);
  }

  private rejected(): void {
    this.#state = 'token_rejected';
    this.#failures = 0;
    this.#down.writable = false;
    this.report('TOKEN_REJECTED', 'the dongle rejected the token (was it reset or paired again?)');
    this.schedule(RECHECK_MS);
  }

  /** `known`: the dongle was discovered but did not answer (else: not discovered at all). */
  private failed(known: boolean, detail: string): void {
    this.#failures++;
    const retry = RETRY_MS[Math.min(this.#failures - 1, RETRY_MS.length - 1)] as number;
    // One lost datagram does not stop a side that works: it is asked again before anything changes.
    if (this.#state === 'bridging' && this.#failures < 2) {
      this.schedule(retry);
      return;
    }
    this.#state = 'dongle_unknown';
    this.#down.writable = false;
    if (known || this.#deps.clock.now() - this.#joinedAt >= UNKNOWN_GRACE_MS) {
      this.report('DONGLE_UNKNOWN', detail);
    }
    this.schedule(retry);
  }

  private report(code: 'DONGLE_UNKNOWN' | 'TOKEN_REJECTED', message: string): void {
    if (this.#reported === code) return;
    this.#reported = code;
    this.#log.warn({ code }, `cannot bridge the dongle: ${message}`);
    this.#deps.sendMessage({ type: 'side_error', group_id: this.groupId, side: this.side, code, message });
  }

  private setTarget(target: DongleTarget): void {
    const current = this.#target;
    if (current && current.address === target.address && current.port === target.port) return;
    this.#target = target;
    this.#deps.route(this, target);
  }

  private schedule(ms: number): void {
    if (this.#closed) return;
    if (this.#timer !== null) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = this.#deps.clock.setTimeout(() => void this.claim(), ms);
  }
}
