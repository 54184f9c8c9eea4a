import { randomUUID } from 'node:crypto';
import { decodeRelay, encodeFrames, type RelayFrame } from '@canopy/protocol/relay';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryEngine } from '../engine';
import type { NumberedAppend, NumberedEntry } from '../engine/engine';
import { createLogger } from '../log';
import { relayKeys } from './keys';
import { type DataConnection, Relay, type RelayGroup } from './relay';

// The relay against the in-process engine, with a buffer that can be held shut: backpressure and the merging
// of messages that queue up while the buffer is busy. (End to end, through real nodes, dongle simulators and
// Redis: apps/node/test/relay*.e2e.test.ts.)

const log = createLogger('silent');

/** The engine, with appends held until open() while `shut`. */
class GatedEngine extends MemoryEngine {
  shut = false;
  private waiting: Array<() => void> = [];
  override async appendNumbered(stream: string, append: NumberedAppend): Promise<NumberedEntry> {
    if (this.shut) await new Promise<void>((resolve) => this.waiting.push(resolve));
    return super.appendNumbered(stream, append);
  }
  open(): void {
    this.shut = false;
    for (const go of this.waiting.splice(0)) go();
  }
}

function connection(agentId: string) {
  const calls: string[] = [];
  const sent: Array<Buffer | string> = [];
  const conn: DataConnection = {
    id: randomUUID(),
    agentId,
    userId: 'u1',
    send: (data) => sent.push(data),
    bufferedAmount: () => 0,
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
    close: (code) => calls.push(`close ${code}`),
  };
  return { conn, calls, sent };
}

const frame = (i: number): RelayFrame => ({
  tsUs: 1_700_000_000_000_000n + BigInt(i),
  id: 0x100 + (i % 4),
  extended: false,
  flags: 0,
  data: Uint8Array.of(i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff),
});

describe('Relay', () => {
  let relay: Relay | undefined;
  let engine: GatedEngine;
  afterEach(async () => {
    engine.open();
    await relay?.close();
    await engine.close();
  });

  /** The dongles' tokens as the cloud holds them now. */
  let tokens: Record<string, string>;
  let clock: number;
  /** The modes the relay set, and the dongles it said rejected their token. */
  let modes: string[];
  let rejected: Array<{ dongleId: string; givenAt: number }>;

  async function bridged() {
    engine = new GatedEngine();
    tokens = { 'dongle-a': 'token-a1', 'dongle-b': 'token-b1' };
    clock = Date.now();
    modes = [];
    rejected = [];
    const group: RelayGroup = {
      id: randomUUID(),
      owner_user_id: 'u1',
      mode: 'active',
      a: { dongle_id: 'dongle-a', device_id: 'aaaaaaaaaaaaaaaa' },
      b: { dongle_id: 'dongle-b', device_id: 'bbbbbbbbbbbbbbbb' },
    };
    relay = new Relay({
      engine,
      log,
      now: () => clock,
      groups: {
        bridged: async () => [group],
        setMode: async (_id, mode, reason) => {
          group.mode = mode;
          modes.push(`${mode}: ${reason}`);
        },
      },
      dongles: {
        route: async (_user, dongleId) => ({
          agentId: dongleId === 'dongle-a' ? 'node-a' : 'node-b',
          token: async () => tokens[dongleId] as string,
        }),
        rejected: async (dongleId, givenAt) => {
          rejected.push({ dongleId, givenAt: givenAt.getTime() });
        },
      },
      audit: async () => {},
      replayRate: 5000,
      maxFrames: 1_000_000,
      maxAgeMs: 600_000,
      reconcileMs: 60_000,
    });
    const a = connection('node-a');
    const b = connection('node-b');
    relay.connected(a.conn);
    relay.connected(b.conn);
    await relay.reconcile();
    expect(relay.counters.attachments).toBe(2);
    return { group, a, b, relay };
  }

  it('stops reading a node whose frames the buffer cannot take fast enough, and reads it again once it caught up', async () => {
    const { group, a, relay } = await bridged();
    engine.shut = true;
    let sent = 0;
    // 600 messages of 100 frames: 60,000 waiting for the buffer, past the 50,000 a node may have waiting.
    for (let m = 0; m < 600; m++) {
      const frames = Array.from({ length: 100 }, () => frame(sent++));
      relay.frames(a.conn, group.id, 'a', encodeFrames(group.id, 'a', frames));
    }
    expect(a.calls).toEqual(['pause']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(relay.counters.up).toBe(0); // nothing reached the buffer while it was shut
    engine.open();
    await expect.poll(() => relay.counters.up, { timeout: 5000 }).toBe(60_000);
    expect(a.calls).toEqual(['pause', 'resume']);
    expect(relay.counters.pauses).toBe(1);
    // Every frame is in the buffer once, numbered 1…60,000 in the order it came.
    const entries = await engine.range(relayKeys.stream(group.id, 'a_to_b'), '0', 10_000);
    let next = 1;
    let data = 0;
    for (const entry of entries) {
      const decoded = decodeRelay(entry.data);
      if (!decoded.ok || decoded.value.kind !== 'deliver') throw new Error('not a DELIVER');
      expect(decoded.value.firstSeq).toBe(next);
      next += decoded.value.frames.length;
      for (const f of decoded.value.frames) expect(f.tsUs).toBe(frame(data++).tsUs);
    }
    expect(next - 1).toBe(60_000);
    // The messages that queued behind the shut buffer went in merged, ten to an entry (1,024 frames at most).
    expect(entries.length).toBeLessThanOrEqual(61);
  });

  it('stores a message alone and at once when the buffer keeps up', async () => {
    const { group, a, relay } = await bridged();
    for (let m = 0; m < 5; m++) {
      relay.frames(a.conn, group.id, 'a', encodeFrames(group.id, 'a', [frame(m)]));
      await expect.poll(() => relay.counters.up).toBe(m + 1);
    }
    const entries = await engine.range(relayKeys.stream(group.id, 'a_to_b'), '0', 100);
    expect(entries).toHaveLength(5);
    expect(a.calls).toEqual([]);
  });

  it('warns of pressure once the oldest waiting frame is past 80 % of the age limit, however few wait', async () => {
    const { group, a, relay } = await bridged();
    relay.frames(a.conn, group.id, 'a', encodeFrames(group.id, 'a', [frame(1), frame(2)]));
    await expect.poll(() => relay.counters.up).toBe(2);
    expect(await relay.buffer(group.id)).toEqual({ a_to_b: 2, b_to_a: 0, pressure: false });
    clock += 0.79 * 600_000; // B has not acknowledged them for 7.9 minutes
    expect((await relay.buffer(group.id)).pressure).toBe(false);
    clock += 0.02 * 600_000;
    expect(await relay.buffer(group.id)).toEqual({ a_to_b: 2, b_to_a: 0, pressure: true });
  });

  it('drops frames from a node that does not bridge the side they claim to come from', async () => {
    const { group, b, relay } = await bridged();
    relay.frames(b.conn, group.id, 'a', encodeFrames(group.id, 'a', [frame(1), frame(2)]));
    expect(relay.counters.dropped).toBe(2);
    expect(relay.counters.up).toBe(0);
  });

  it('joins a side again with the new token once its dongle, which rejected the old one, was paired again', async () => {
    const { group, b, relay } = await bridged();
    const joins = () =>
      b.sent
        .filter((m): m is string => typeof m === 'string')
        .map((m) => JSON.parse(m) as { type: string; token?: string; reason?: string })
        .filter((m) => m.type !== 'group_state');
    expect(joins()).toMatchObject([{ type: 'group_join', token: 'token-b1' }]);
    const joinedAt = clock;
    relay.sideError(b.conn, group.id, 'b', 'TOKEN_REJECTED');
    relay.sideError(b.conn, group.id, 'b', 'TOKEN_REJECTED'); // said again: told once
    // The side is down at once (the group degraded, not "active" with a dongle that refuses everything), and
    // the dongle is reported for its owner to pair again.
    await expect.poll(() => modes).toEqual(['degraded: side b offline']);
    expect(rejected).toEqual([{ dongleId: 'dongle-b', givenAt: joinedAt }]);
    // The same token is never offered again: the dongle would count each try as a failure.
    clock += 60_000;
    await relay.reconcile();
    expect(joins()).toHaveLength(1);
    tokens['dongle-b'] = 'token-b2';
    clock += 10_000;
    await relay.reconcile();
    expect(joins()).toMatchObject([
      { type: 'group_join', token: 'token-b1' },
      { type: 'group_leave', reason: 'the dongle was paired again: joining with its new token' },
      { type: 'group_join', token: 'token-b2' },
    ]);
    expect(modes).toEqual(['degraded: side b offline', 'active: both sides are online']);
    // Other errors, or errors from a node that does not bridge the side, change nothing.
    relay.sideError(b.conn, group.id, 'b', 'DONGLE_UNKNOWN');
    tokens['dongle-b'] = 'token-b3';
    clock += 10_000;
    await relay.reconcile();
    expect(joins()).toHaveLength(3);
  });
});
