import { z } from 'zod';

/*
 * The data plane (spec 002 §13.3): WS /ws/data between canopy-node and the cloud. CAN frames travel in binary
 * messages, batched (one message, one stream entry, many frames); everything else is JSON text.
 *
 * Binary messages (big-endian):
 *   FRAMES  node → cloud   kind 1, version 1, group_id[16], side u8 (the side the frames come FROM: 0 a, 1 b),
 *                          reserved u8, count u16, then `count` frames
 *   DELIVER cloud → node   kind 2, version 1, group_id[16], side u8 (the side they go TO), reserved u8,
 *                          epoch u32, first_seq u64, count u16, then `count` frames
 *   ACK     node → cloud   kind 3, version 1, group_id[16], side u8 (the receiving side), reserved u8,
 *                          epoch u32, seq u64 (every frame ≤ seq of this epoch was written to the dongle)
 * A frame: ts_us u64 (µs since the epoch, when the dongle read it), can_id u32 (bit 31 = extended), flags u8,
 * dlc u8 (0–8), data[dlc].
 *
 * The cloud numbers frames per direction (seq, from 1) when they enter its buffer, so the receiving node sees
 * a gap or a repeat; the epoch changes when the buffer was lost (a Redis without persistence restarted), and
 * the numbering starts again.
 */

export const RELAY_VERSION = 1;
export const KIND_FRAMES = 1;
export const KIND_DELIVER = 2;
export const KIND_ACK = 3;
/** Frames per batch, at most: ~1,000 frames is ~20 KB, well under a WS message limit. */
export const MAX_BATCH = 1024;
/** Where a DELIVER carries its epoch (u32) and first seq (u64): the cloud numbers entries in place. */
export const DELIVER_EPOCH_AT = 20;
export const DELIVER_SEQ_AT = 24;
const FRAMES_HEADER = 22;
const DELIVER_HEADER = 34;
const ACK_LEN = 32;
const MIN_FRAME = 14;
const EXTENDED = 0x8000_0000;

export type Side = 'a' | 'b';
export type RelayFrame = {
  /** µs since the epoch. */
  tsUs: bigint;
  /** 11- or 29-bit id. */
  id: number;
  extended: boolean;
  flags: number;
  data: Uint8Array;
};

export type FramesMessage = { kind: 'frames'; groupId: string; from: Side; frames: RelayFrame[] };
export type DeliverMessage = {
  kind: 'deliver';
  groupId: string;
  to: Side;
  epoch: number;
  firstSeq: number;
  frames: RelayFrame[];
};
export type AckMessage = { kind: 'ack'; groupId: string; side: Side; epoch: number; seq: number };
export type RelayMessage = FramesMessage | DeliverMessage | AckMessage;

export type RelayDecodeError = {
  code: 'TRUNCATED' | 'BAD_VERSION' | 'BAD_KIND' | 'BAD_FIELD';
  message: string;
};
export type RelayDecoded<T> = { ok: true; value: T } | { ok: false; error: RelayDecodeError };

const fail = (code: RelayDecodeError['code'], message: string): { ok: false; error: RelayDecodeError } => ({
  ok: false,
  error: { code, message },
});

// ---- encoding ----

export function encodeFrames(groupId: string, from: Side, frames: RelayFrame[]): Buffer {
  const out = Buffer.allocUnsafe(FRAMES_HEADER + framesLength(frames));
  out[0] = KIND_FRAMES;
  out[1] = RELAY_VERSION;
  writeUuid(out, 2, groupId);
  out[18] = sideByte(from);
  out[19] = 0;
  out.writeUInt16BE(checkCount(frames.length), 20);
  writeFrameList(out, FRAMES_HEADER, frames);
  return out;
}

export function encodeDeliver(m: Omit<DeliverMessage, 'kind'>): Buffer {
  const out = Buffer.allocUnsafe(DELIVER_HEADER + framesLength(m.frames));
  writeDeliverHeader(out, m.groupId, m.to, m.epoch, m.firstSeq, m.frames.length);
  writeFrameList(out, DELIVER_HEADER, m.frames);
  return out;
}

/**
 * The cloud's fast path: a DELIVER made from FRAMES messages (one, or several of one group and side that came
 * in a row, merged — at most MAX_BATCH frames in all) by a new header in front of their frame bytes, which are
 * copied as they are (the FRAMES messages were decoded, so they are known to be well formed).
 */
export function deliverFromFrames(
  frames: Buffer | readonly Buffer[],
  to: Side,
  epoch: number,
  firstSeq: number,
): Buffer {
  const list = Buffer.isBuffer(frames) ? [frames] : frames;
  const first = list[0];
  if (!first) throw new RangeError('deliverFromFrames needs at least one FRAMES message');
  let count = 0;
  let length = DELIVER_HEADER;
  for (const m of list) {
    count += m.readUInt16BE(20);
    length += m.length - FRAMES_HEADER;
  }
  const out = Buffer.allocUnsafe(length);
  writeDeliverHeader(out, readUuid(first, 2), to, epoch, firstSeq, checkCount(count));
  let at = DELIVER_HEADER;
  for (const m of list) at += m.copy(out, at, FRAMES_HEADER);
  return out;
}

export function encodeAck(m: Omit<AckMessage, 'kind'>): Buffer {
  const out = Buffer.allocUnsafe(ACK_LEN);
  out[0] = KIND_ACK;
  out[1] = RELAY_VERSION;
  writeUuid(out, 2, m.groupId);
  out[18] = sideByte(m.side);
  out[19] = 0;
  out.writeUInt32BE(m.epoch >>> 0, 20);
  writeSeq(out, 24, m.seq);
  return out;
}

// ---- decoding: a value or a typed error, never a throw ----

/**
 * Checks a message as decodeRelay does, without making frame objects (the cloud forwards frame bytes as they
 * are): the header fields, and `frames: []` however many there are.
 */
export function inspectRelay(bytes: Uint8Array): RelayDecoded<RelayMessage> {
  return decode(bytes, false);
}

export function decodeRelay(bytes: Uint8Array): RelayDecoded<RelayMessage> {
  return decode(bytes, true);
}

function decode(bytes: Uint8Array, collect: boolean): RelayDecoded<RelayMessage> {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 2) return fail('TRUNCATED', 'shorter than a relay header');
  if (b[1] !== RELAY_VERSION) return fail('BAD_VERSION', `relay version ${b[1]} is not ${RELAY_VERSION}`);
  const side = (at: number): Side | undefined => (b[at] === 0 ? 'a' : b[at] === 1 ? 'b' : undefined);
  switch (b[0]) {
    case KIND_FRAMES: {
      if (b.length < FRAMES_HEADER) return fail('TRUNCATED', 'shorter than a FRAMES header');
      const from = side(18);
      if (!from) return fail('BAD_FIELD', `side ${b[18]} is neither 0 nor 1`);
      const frames = readFrameList(b, FRAMES_HEADER, b.readUInt16BE(20), collect);
      if (!frames.ok) return frames;
      return { ok: true, value: { kind: 'frames', groupId: readUuid(b, 2), from, frames: frames.value } };
    }
    case KIND_DELIVER: {
      if (b.length < DELIVER_HEADER) return fail('TRUNCATED', 'shorter than a DELIVER header');
      const to = side(18);
      if (!to) return fail('BAD_FIELD', `side ${b[18]} is neither 0 nor 1`);
      const firstSeq = readSeq(b, 24);
      if (firstSeq === undefined) return fail('BAD_FIELD', 'first_seq is beyond 2^53');
      const frames = readFrameList(b, DELIVER_HEADER, b.readUInt16BE(32), collect);
      if (!frames.ok) return frames;
      return {
        ok: true,
        value: {
          kind: 'deliver',
          groupId: readUuid(b, 2),
          to,
          epoch: b.readUInt32BE(20),
          firstSeq,
          frames: frames.value,
        },
      };
    }
    case KIND_ACK: {
      if (b.length !== ACK_LEN) return fail('TRUNCATED', `an ACK is ${ACK_LEN} bytes, not ${b.length}`);
      const s = side(18);
      if (!s) return fail('BAD_FIELD', `side ${b[18]} is neither 0 nor 1`);
      const seq = readSeq(b, 24);
      if (seq === undefined) return fail('BAD_FIELD', 'seq is beyond 2^53');
      return {
        ok: true,
        value: { kind: 'ack', groupId: readUuid(b, 2), side: s, epoch: b.readUInt32BE(20), seq },
      };
    }
    default:
      return fail('BAD_KIND', `unknown relay message kind ${b[0]}`);
  }
}

/**
 * The frames of a FRAMES or DELIVER message that inspectRelay accepted, one at a time: offsets are found in one
 * pass without allocating frames, and only the frames asked for are made (the live console samples them).
 */
export function frameReader(message: Buffer): { count: number; frame(i: number): RelayFrame } {
  const start = message[0] === KIND_DELIVER ? DELIVER_HEADER : FRAMES_HEADER;
  const count = batchCount(message);
  const offsets = new Int32Array(count);
  let at = start;
  for (let i = 0; i < count; i++) {
    offsets[i] = at;
    at += MIN_FRAME + (message[at + 13] as number);
  }
  return {
    count,
    frame(i: number): RelayFrame {
      const o = offsets[i] as number;
      const raw = message.readUInt32BE(o + 8);
      const extended = raw >= EXTENDED;
      const dlc = message[o + 13] as number;
      return {
        tsUs: message.readBigUInt64BE(o),
        id: extended ? raw - EXTENDED : raw,
        extended,
        flags: message[o + 12] as number,
        data: new Uint8Array(message.subarray(o + 14, o + 14 + dlc)),
      };
    },
  };
}

/** The number of frames of a FRAMES or DELIVER message that decoded; read from its header. */
export function batchCount(message: Buffer): number {
  return message[0] === KIND_DELIVER ? message.readUInt16BE(32) : message.readUInt16BE(20);
}

// ---- JSON text messages on /ws/data ----

const Uuid = z.uuid();
const SideSchema = z.enum(['a', 'b']);

/** cloud → node */
export const DataCloudMessage = z.discriminatedUnion('type', [
  /** The connection is ready; `max_batch` frames per FRAMES message at most. */
  z.object({ type: z.literal('data_welcome'), max_batch: z.number().int().positive() }),
  /**
   * Bridge this dongle for this group side: read its frames (send FRAMES from `side`) and write what comes in
   * DELIVER to it. The token is the dongle's, for this connection only (kept in memory). `resume` is the last
   * frame of the inbound direction the cloud knows was written, so a reconnecting node drops repeats.
   */
  z.object({
    type: z.literal('group_join'),
    group_id: Uuid,
    side: SideSchema,
    device_id: z.string().regex(/^[0-9a-f]{16}$/),
    token: z.string().min(1).max(128),
    resume: z.object({ epoch: z.number().int().nonnegative(), seq: z.number().int().nonnegative() }),
  }),
  z.object({ type: z.literal('group_leave'), group_id: Uuid, side: SideSchema, reason: z.string().max(200) }),
]);
export type DataCloudMessage = z.infer<typeof DataCloudMessage>;

/** node → cloud */
export const DataNodeMessage = z.discriminatedUnion('type', [
  /** A DELIVER did not follow the last one: frames expected..got-1 are missing (or repeated, got < expected). */
  z.object({
    type: z.literal('gap'),
    group_id: Uuid,
    side: SideSchema,
    epoch: z.number().int().nonnegative(),
    expected: z.number().int().nonnegative(),
    got: z.number().int().nonnegative(),
  }),
  /** The node cannot bridge this side (the dongle is gone, or rejected its token). */
  z.object({
    type: z.literal('side_error'),
    group_id: Uuid,
    side: SideSchema,
    code: z.enum(['DONGLE_UNKNOWN', 'TOKEN_REJECTED', 'NODE_ERROR']),
    message: z.string().max(500),
  }),
]);
export type DataNodeMessage = z.infer<typeof DataNodeMessage>;

// ---- helpers ----

function framesLength(frames: RelayFrame[]): number {
  let n = 0;
  for (const f of frames) n += MIN_FRAME + f.data.length;
  return n;
}

function checkCount(count: number): number {
  if (count > MAX_BATCH) throw new RangeError(`a batch holds at most ${MAX_BATCH} frames, not ${count}`);
  return count;
}

function writeDeliverHeader(
  out: Buffer,
  groupId: string,
  to: Side,
  epoch: number,
  firstSeq: number,
  count: number,
) {
  out[0] = KIND_DELIVER;
  out[1] = RELAY_VERSION;
  writeUuid(out, 2, groupId);
  out[18] = sideByte(to);
  out[19] = 0;
  out.writeUInt32BE(epoch >>> 0, 20);
  writeSeq(out, 24, firstSeq);
  out.writeUInt16BE(checkCount(count), 32);
}

function writeFrameList(out: Buffer, start: number, frames: RelayFrame[]): void {
  let at = start;
  for (const f of frames) {
    if (f.data.length > 8) throw new RangeError('a CAN frame carries at most 8 data bytes');
    const max = f.extended ? 0x1fff_ffff : 0x7ff;
    if (!Number.isInteger(f.id) || f.id < 0 || f.id > max)
      throw new RangeError(`CAN id ${f.id} is out of range`);
    out.writeBigUInt64BE(f.tsUs, at);
    out.writeUInt32BE((f.extended ? EXTENDED : 0) + f.id, at + 8);
    out[at + 12] = f.flags & 0xff;
    out[at + 13] = f.data.length;
    out.set(f.data, at + 14);
    at += MIN_FRAME + f.data.length;
  }
}

function readFrameList(
  b: Buffer,
  start: number,
  count: number,
  collect: boolean,
): RelayDecoded<RelayFrame[]> {
  if (count > MAX_BATCH) return fail('BAD_FIELD', `count ${count} is over ${MAX_BATCH}`);
  const frames: RelayFrame[] = [];
  let at = start;
  for (let i = 0; i < count; i++) {
    if (at + MIN_FRAME > b.length) return fail('TRUNCATED', `frame ${i} runs past the message`);
    const raw = b.readUInt32BE(at + 8);
    const extended = raw >= EXTENDED;
    const id = extended ? raw - EXTENDED : raw;
    if (id > (extended ? 0x1fff_ffff : 0x7ff)) return fail('BAD_FIELD', `frame ${i}: CAN id out of range`);
    const dlc = b[at + 13] as number;
    if (dlc > 8) return fail('BAD_FIELD', `frame ${i}: dlc ${dlc} is over 8`);
    if (at + MIN_FRAME + dlc > b.length) return fail('TRUNCATED', `frame ${i}'s data runs past the message`);
    if (collect)
      frames.push({
        tsUs: b.readBigUInt64BE(at),
        id,
        extended,
        flags: b[at + 12] as number,
        data: new Uint8Array(b.subarray(at + 14, at + 14 + dlc)),
      });
    at += MIN_FRAME + dlc;
  }
  if (at !== b.length) return fail('BAD_FIELD', `${b.length - at} bytes after the last frame`);
  return { ok: true, value: frames };
}

const sideByte = (side: Side) => (side === 'a' ? 0 : 1);

function writeSeq(out: Buffer, at: number, seq: number): void {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`seq ${seq} is not a safe integer ≥ 0`);
  out.writeBigUInt64BE(BigInt(seq), at);
}

function readSeq(b: Buffer, at: number): number | undefined {
  const v = b.readBigUInt64BE(at);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v);
}

function writeUuid(out: Buffer, at: number, uuid: string): void {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new RangeError(`${uuid} is not a UUID`);
  out.write(hex, at, 16, 'hex');
}

function readUuid(b: Buffer, at: number): string {
  const h = b.toString('hex', at, at + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
