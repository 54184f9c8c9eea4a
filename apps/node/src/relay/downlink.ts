import type { RelayFrame } from '@canopy/protocol/relay';
import type { Clock } from '../link/clock';
import { AckPacer } from './acks';
import { TokenBucket } from './pacer';
import { InboundSequence, type Position } from './sequence';

/** Frames a second written to one dongle at most: above a full bus (~9,000), so a backlog drains. */
export const WRITE_RATE = 20_000;
/** Frames written back to back at most (one datagram each): a few milliseconds of a bus, so a dongle with a small UDP receive queue keeps up; a backlog goes out in many small bursts. */
export const WRITE_BURST = 64;
/** Frames accepted but not yet written (the dongle not confirmed yet, or the pace) at most. */
export const MAX_QUEUED = 100_000;

type Chunk = { epoch: number; firstSeq: number; frames: RelayFrame[]; next: number };

export type DownlinkOptions = {
  clock: Clock;
  /** Resume point of the join: the last frame the cloud knows was written. */
  resume: Position;
  /** Writes one frame to the dongle; false when it could not go. */
  write: (frame: RelayFrame) => boolean;
  ack: (at: Position) => void;
  gap: (gap: { epoch: number; expected: number; got: number }) => void;
  newEpoch?: (change: { from: number; to: number }) => void;
  rate?: number;
  burst?: number;
  maxQueued?: number;
};

/**
 * The cloud → dongle half of one group side: checks the numbering of each DELIVER (repeats dropped, gaps
 * reported once), queues what is new, writes it to the dongle in order at a bounded pace while the dongle is
 * confirmed (`writable`), and acknowledges what was written.
 */
export class Downlink {
  readonly sequence: InboundSequence;
  readonly counts = { written: 0, writeErrors: 0 };
  readonly #queue: Chunk[] = [];
  readonly #acks: AckPacer;
  readonly #bucket: TokenBucket;
  #queued = 0;
  #writable = false;
  #timer: unknown = null;
  #closed = false;

  constructor(private readonly options: DownlinkOptions) {
    this.sequence = new InboundSequence(options.resume);
    this.#acks = new AckPacer({ clock: options.clock, send: options.ack });
    this.#bucket = new TokenBucket(
      options.rate ?? WRITE_RATE,
      options.burst ?? WRITE_BURST,
      options.clock.now(),
    );
  }

  /** Frames accepted, not yet written. */
  get queued(): number {
    return this.#queued;
  }

  /** Whether frames may go to the dongle now (it answered with this token). */
  set writable(value: boolean) {
    this.#writable = value;
    if (value) this.drain();
  }

  get writable(): boolean {
    return this.#writable;
  }

  /** Takes a DELIVER's frames; returns how many it refused (no room in the queue: a gap later). */
  deliver(epoch: number, firstSeq: number, frames: RelayFrame[]): number {
    if (this.#closed) return 0;
    const room = (this.options.maxQueued ?? MAX_QUEUED) - this.#queued;
    const verdict = this.sequence.accept(epoch, firstSeq, frames.length, room);
    if (verdict.kind === 'refused') return frames.length;
    if (verdict.kind !== 'write') return 0;
    if (verdict.newEpoch) this.options.newEpoch?.(verdict.newEpoch);
    if (verdict.gap) this.options.gap(verdict.gap);
    this.#queue.push({ epoch, firstSeq, frames, next: verdict.skip });
    this.#queued += frames.length - verdict.skip;
    this.drain();
    return 0;
  }

  /** Sends the last written position now, if it was not (a leave, a stop). */
  flushAck(): void {
    this.#acks.flush();
  }

  close(): void {
    this.#closed = true;
    this.#writable = false;
    if (this.#timer !== null) this.options.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#acks.close();
    this.#queue.length = 0;
    this.#queued = 0;
  }

  private drain(): void {
    if (this.#timer !== null || this.#closed) return;
    const { clock } = this.options;
    let last: Position | null = null;
    while (this.#writable && this.#queue.length > 0) {
      const head = this.#queue[0] as Chunk;
      const allowed = this.#bucket.take(head.frames.length - head.next, clock.now());
      if (allowed === 0) {
        this.#timer = clock.setTimeout(
          () => {
            this.#timer = null;
            this.drain();
          },
          Math.max(1, this.#bucket.waitMs(clock.now())),
        );
        break;
      }
      for (let i = 0; i < allowed; i++) {
        if (this.options.write(head.frames[head.next] as RelayFrame)) this.counts.written++;
        else this.counts.writeErrors++;
        head.next++;
      }
      this.#queued -= allowed;
      last = { epoch: head.epoch, seq: head.firstSeq + head.next - 1 };
      if (head.next >= head.frames.length) this.#queue.shift();
    }
    if (last) this.#acks.wrote(last);
  }
}
