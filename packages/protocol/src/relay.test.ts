import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DataCloudMessage,
  decodeRelay,
  deliverFromFrames,
  encodeAck,
  encodeDeliver,
  encodeFrames,
  frameReader,
  inspectRelay,
  MAX_BATCH,
  type RelayFrame,
} from './relay';

const GROUP = '0190e0c4-7a1b-7c3d-8e9f-0a1b2c3d4e5f';
const frame = (i: number, more: Partial<RelayFrame> = {}): RelayFrame => ({
  tsUs: 1_764_000_000_000_000n + BigInt(i),
  id: 0x100 + (i % 0x600),
  extended: false,
  flags: i % 4,
  data: Uint8Array.from({ length: i % 9 }, (_, k) => (i + k) & 0xff),
  ...more,
});

describe('relay messages', () => {
  it('round-trips FRAMES with standard and extended ids and every dlc', () => {
    const frames = [
      ...Array.from({ length: 18 }, (_, i) => frame(i)),
      frame(99, { id: 0x1fff_ffff, extended: true }),
      frame(100, { id: 0, extended: true, data: new Uint8Array(0) }),
      frame(101, { id: 0x7ff }),
    ];
    const decoded = decodeRelay(encodeFrames(GROUP, 'b', frames));
    expect(decoded).toEqual({ ok: true, value: { kind: 'frames', groupId: GROUP, from: 'b', frames } });
  });

  it('makes the same DELIVER from a FRAMES message as from its frames', () => {
    const frames = Array.from({ length: 50 }, (_, i) => frame(i));
    const direct = encodeDeliver({ groupId: GROUP, to: 'a', epoch: 7, firstSeq: 2 ** 40 + 3, frames });
    const fast = deliverFromFrames(encodeFrames(GROUP, 'b', frames), 'a', 7, 2 ** 40 + 3);
    expect(fast.equals(direct)).toBe(true);
    const reader = frameReader(fast);
    expect(reader.count).toBe(50);
    expect([reader.frame(0), reader.frame(17), reader.frame(49)]).toEqual([
      frames[0],
      frames[17],
      frames[49],
    ]);
    expect(inspectRelay(fast)).toEqual({
      ok: true,
      value: { kind: 'deliver', groupId: GROUP, to: 'a', epoch: 7, firstSeq: 2 ** 40 + 3, frames: [] },
    });
    expect(decodeRelay(fast)).toEqual({
      ok: true,
      value: { kind: 'deliver', groupId: GROUP, to: 'a', epoch: 7, firstSeq: 2 ** 40 + 3, frames },
    });
  });

  it('merges FRAMES messages that came in a row into one DELIVER, in their order, up to MAX_BATCH frames', () => {
    const frames = Array.from({ length: 1000 }, (_, i) => frame(i));
    const parts = [frames.slice(0, 1), frames.slice(1, 400), frames.slice(400)].map((f) =>
      encodeFrames(GROUP, 'a', f),
    );
    const merged = deliverFromFrames(parts, 'b', 3, 41);
    const direct = encodeDeliver({ groupId: GROUP, to: 'b', epoch: 3, firstSeq: 41, frames });
    expect(merged.equals(direct)).toBe(true);
    const tooMany = [...parts, encodeFrames(GROUP, 'a', frames.slice(0, MAX_BATCH - 999))];
    expect(() => deliverFromFrames(tooMany, 'b', 3, 41)).toThrow(RangeError);
    expect(() => deliverFromFrames([], 'b', 3, 41)).toThrow(RangeError);
  });

  it('round-trips an ACK', () => {
    const ack = { groupId: GROUP, side: 'a' as const, epoch: 0xffff_ffff, seq: Number.MAX_SAFE_INTEGER };
    expect(decodeRelay(encodeAck(ack))).toEqual({ ok: true, value: { kind: 'ack', ...ack } });
  });

  it('refuses to encode what it could not decode', () => {
    expect(() => encodeFrames(GROUP, 'a', [frame(1, { id: 0x800 })])).toThrow(RangeError);
    expect(() => encodeFrames(GROUP, 'a', [frame(1, { data: new Uint8Array(9) })])).toThrow(RangeError);
    expect(() =>
      encodeFrames(
        GROUP,
        'a',
        Array.from({ length: MAX_BATCH + 1 }, (_, i) => frame(i)),
      ),
    ).toThrow(RangeError);
    expect(() => encodeFrames('not-a-uuid', 'a', [])).toThrow(RangeError);
    expect(() => encodeAck({ groupId: GROUP, side: 'a', epoch: 1, seq: -1 })).toThrow(RangeError);
  });

  it('answers hostile bytes with typed errors', () => {
    const good = encodeFrames(GROUP, 'a', [frame(3), frame(8)]);
    const code = (b: Uint8Array) => {
      const d = decodeRelay(b);
      return d.ok ? 'ok' : d.error.code;
    };
    expect(code(new Uint8Array(0))).toBe('TRUNCATED');
    expect(code(Uint8Array.of(1, 9))).toBe('BAD_VERSION');
    expect(code(Uint8Array.of(9, 1))).toBe('BAD_KIND');
    expect(code(good.subarray(0, 21))).toBe('TRUNCATED');
    expect(code(good.subarray(0, good.length - 1))).toBe('TRUNCATED');
    expect(code(Buffer.concat([good, Buffer.of(0)]))).toBe('BAD_FIELD');
    const badSide = Buffer.from(good);
    badSide[18] = 2;
    expect(code(badSide)).toBe('BAD_FIELD');
    const badDlc = Buffer.from(good);
    badDlc[22 + 13] = 9;
    expect(code(badDlc)).toBe('BAD_FIELD');
    const badId = Buffer.from(good);
    badId.writeUInt32BE(0x800, 22 + 8);
    expect(code(badId)).toBe('BAD_FIELD');
    const tooMany = Buffer.from(good);
    tooMany.writeUInt16BE(MAX_BATCH + 1, 20);
    expect(code(tooMany)).toBe('BAD_FIELD');
    const hugeSeq = encodeAck({ groupId: GROUP, side: 'b', epoch: 1, seq: 1 });
    hugeSeq.writeBigUInt64BE(2n ** 60n, 24);
    expect(code(hugeSeq)).toBe('BAD_FIELD');
  });

  it('never throws on 100,000 mutated or random messages', () => {
    const seeds = [
      encodeFrames(
        GROUP,
        'a',
        Array.from({ length: 20 }, (_, i) => frame(i)),
      ),
      encodeDeliver({ groupId: GROUP, to: 'b', epoch: 1, firstSeq: 1, frames: [frame(5)] }),
      encodeAck({ groupId: GROUP, side: 'a', epoch: 1, seq: 9 }),
    ];
    const noise = randomBytes(100_000 * 3);
    let n = 0;
    for (let i = 0; i < 100_000; i++) {
      const seed = seeds[i % 3] as Buffer;
      const b = i % 10 === 0 ? randomBytes(i % 200) : Buffer.from(seed.subarray(0, seed.length - (i % 7)));
      b[(noise[n++] as number) % Math.max(b.length, 1)] = noise[n++] as number;
      const at = (noise[n++] as number) % Math.max(b.length, 1);
      b[at] = (b[at] ?? 0) ^ 0xff;
      const full = decodeRelay(b);
      const quick = inspectRelay(b);
      expect(quick.ok).toBe(full.ok);
    }
  });

  it('validates the JSON control messages', () => {
    const join = {
      type: 'group_join',
      group_id: randomUUID(),
      side: 'a',
      device_id: '0011223344556677',
      token: randomBytes(32).toString('base64'),
      resume: { epoch: 1, seq: 0 },
    };
    expect(DataCloudMessage.parse(join)).toEqual(join);
    expect(DataCloudMessage.safeParse({ ...join, side: 'c' }).success).toBe(false);
  });
});
