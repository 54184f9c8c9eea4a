import { afterEach, describe, expect, it } from 'vitest';
import { MemoryEngine } from '../engine';
import { createLogger } from '../log';
import { ConsoleStreams, FRAME_FLUSH_MS } from './console-streams';
import type { ConsoleEntry } from './entry';
import type { ConsoleSink } from './tap';

const log = createLogger('silent');
const ts = '2025-12-22T15:31:00.000Z';
const STREAM = 'console:dongle:test';

function collector() {
  const entries: ConsoleEntry[] = [];
  const failures: string[] = [];
  const sink: ConsoleSink = {
    event: (e) => entries.push(e),
    drained: async () => {},
    fail: (reason) => failures.push(reason),
  };
  const messages = () => entries.map((e) => JSON.parse(e.dataJson).message as string);
  return { sink, entries, failures, messages };
}

describe('ConsoleStreams', () => {
  let engine: MemoryEngine;
  let streams: ConsoleStreams;
  afterEach(async () => {
    streams?.close();
    await engine?.close();
  });
  const emit = (message: string) => streams.emit(STREAM, 'log', { ts, level: 'info', message });

  it('gives a subscriber that joins behind the reader loop the gap, then live events, each once and in order', async () => {
    engine = new MemoryEngine();
    streams = new ConsoleStreams({ engine, log });
    const first = collector();
    const start = await streams.startingPoint(STREAM, undefined);
    streams.subscribe(STREAM, start, first.sink);
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await emit(`m${i}`));
    await expect.poll(() => first.entries.length).toBe(50);

    const late = collector();
    const resume = await streams.startingPoint(STREAM, ids[9]);
    expect(resume.reset).toBeNull();
    streams.subscribe(STREAM, resume, late.sink);
    for (let i = 50; i < 70; i++) ids.push(await emit(`m${i}`));
    await expect.poll(() => late.entries.length).toBe(60);
    expect(late.entries.map((e) => e.id)).toEqual(ids.slice(10));
    expect(first.entries.map((e) => e.id)).toEqual(ids);
    expect(late.failures).toEqual([]);
  });

  it('starts a connection without Last-Event-ID after the newest event, and resets one whose id is gone', async () => {
    engine = new MemoryEngine();
    streams = new ConsoleStreams({ engine, log, maxEntries: 3, trimEvery: 1 });
    expect(await streams.startingPoint(STREAM, undefined)).toEqual({ from: '0', live: '0', reset: null });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await emit(`m${i}`));
    await expect.poll(async () => (await engine.streamInfo(STREAM)).length).toBe(3);
    expect(await streams.startingPoint(STREAM, undefined)).toEqual({
      from: ids[9],
      live: ids[9],
      reset: null,
    });
    const gone = await streams.startingPoint(STREAM, ids[0]);
    expect(gone.from).toBe(ids[9]);
    expect(gone.reset).toMatchObject({ reason: 'too_old', oldest_id: ids[7], newest_id: ids[9] });
  });

  it('keeps at most maxEntries and nothing older than maxAgeMs, but always the newest event', async () => {
    let now = 1_700_000_000_000;
    const clock = () => now;
    engine = new MemoryEngine(clock);
    streams = new ConsoleStreams({ engine, log, now: clock, maxEntries: 10, maxAgeMs: 60_000, trimEvery: 1 });
    for (let i = 0; i < 30; i++) await emit(`m${i}`);
    await expect.poll(async () => (await engine.streamInfo(STREAM)).length).toBe(10);
    now += 120_000;
    const [newest] = [await emit('late')];
    await expect.poll(async () => (await engine.streamInfo(STREAM)).length).toBe(1);
    // No more events: the sweep's age trim still leaves the newest, so a client that saw it can resume.
    now += 600_000;
    await new Promise((r) => setTimeout(r, 1200));
    expect(await engine.streamInfo(STREAM)).toEqual({ length: 1, firstId: newest, lastId: newest });
    expect((await streams.startingPoint(STREAM, newest)).reset).toBeNull();
  });

  it('refuses event data that does not match its schema', async () => {
    engine = new MemoryEngine();
    streams = new ConsoleStreams({ engine, log });
    await expect(streams.emit(STREAM, 'log', { ts, level: 'loud', message: 'x' } as never)).rejects.toThrow();
    await expect(
      streams.emit(STREAM, 'presence', { dongle_id: 'nope', online: true, agent_id: null, seen_at: null }),
    ).rejects.toThrow();
    expect((await engine.streamInfo(STREAM)).length).toBe(0);
  });

  it('runs one reader loop per stream while it has subscribers, and stops it when the last one leaves', async () => {
    engine = new MemoryEngine();
    streams = new ConsoleStreams({ engine, log });
    const start = await streams.startingPoint(STREAM, undefined);
    const a = collector();
    const b = collector();
    const leaveA = streams.subscribe(STREAM, start, a.sink);
    const leaveB = streams.subscribe(STREAM, start, b.sink);
    const leaveOther = streams.subscribe('console:group:other', start, collector().sink);
    expect(streams.stats()).toEqual({ streams: 2, subscribers: 3 });
    await emit('both');
    await expect.poll(() => a.messages().concat(b.messages())).toEqual(['both', 'both']);
    leaveA();
    leaveB();
    leaveOther();
    expect(streams.stats()).toEqual({ streams: 0, subscribers: 0 });
    // A new subscriber starts a new loop.
    const c = collector();
    streams.subscribe(STREAM, await streams.startingPoint(STREAM, undefined), c.sink);
    await emit('again');
    await expect.poll(() => c.messages()).toEqual(['again']);
  });

  it('paces the fan-out to many subscribers: each gets every event once and in order, in few writes', async () => {
    engine = new MemoryEngine();
    streams = new ConsoleStreams({ engine, log });
    const start = await streams.startingPoint(STREAM, undefined);
    const subscribers = Array.from({ length: 200 }, () => {
      const got = { ids: [] as string[], writes: 0, failures: [] as string[] };
      const sink: ConsoleSink = {
        event: (e) => {
          got.writes += 1;
          got.ids.push(e.id);
        },
        events: (entries) => {
          got.writes += 1;
          got.ids.push(...entries.map((e) => e.id));
        },
        drained: async () => {},
        fail: (reason) => got.failures.push(reason),
      };
      streams.subscribe(STREAM, start, sink);
      return got;
    });
    const ids: string[] = [];
    const started = performance.now();
    for (let i = 0; i < 100; i++) {
      ids.push(await emit(`m${i}`));
      await new Promise((r) => setTimeout(r, 2));
    }
    const elapsed = performance.now() - started;
    await expect.poll(() => subscribers.every((s) => s.ids.length === 100)).toBe(true);
    for (const s of subscribers) {
      expect(s.ids).toEqual(ids);
      expect(s.failures).toEqual([]);
    }
    // 200 subscribers: reads 50 ms apart, so about one write per 50 ms each — not one per event (100).
    const writes = Math.max(...subscribers.map((s) => s.writes));
    expect(writes).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 2);
  });

  it('writes a busy console’s CAN frames in one append per 20 ms, the first at once, and keeps them before later events', async () => {
    engine = new MemoryEngine();
    const appends: number[] = [];
    const append = engine.append.bind(engine);
    engine.append = (stream, entries) => {
      appends.push(entries.length);
      return append(stream, entries);
    };
    streams = new ConsoleStreams({ engine, log });
    streams.subscribe(STREAM, { from: '0', live: '0' }, collector().sink);
    const frame = (data: string) => ({
      ts,
      direction: 'rx' as const,
      dongle_id: 'd',
      id: '0x7E8',
      is_extended: false,
      dlc: 1,
      data,
    });
    const inStream = async () =>
      (await engine.range(STREAM, '0', 100)).map((e) => {
        const event = JSON.parse(e.data.toString());
        return event.type === 'can_frame' ? event.data.data : event.data.message;
      });
    await streams.emitFrames([STREAM], [frame('00')]);
    expect(await inStream()).toEqual(['00']); // the first at once
    // A relayed bus: a message every 2 ms, 3 frames each (under the sampling threshold: every frame shown).
    const sent: string[] = ['00'];
    const waiting: Array<Promise<void>> = [];
    const started = performance.now();
    for (let i = 1; i <= 15; i++) {
      const batch = [0, 1, 2].map((j) => (i * 3 + j).toString(16).padStart(2, '0'));
      sent.push(...batch);
      waiting.push(streams.emitFrames([STREAM], batch.map(frame)));
      await new Promise((r) => setTimeout(r, 2));
    }
    const elapsed = performance.now() - started;
    await Promise.all(waiting);
    expect(await inStream()).toEqual(sent);
    // One append per 20 ms window after the first, not one per message (16).
    expect(appends.length).toBeLessThanOrEqual(Math.min(Math.ceil(elapsed / FRAME_FLUSH_MS) + 2, 15));
    // An event emitted while frames wait takes them along, in order, in the same append: it does not wait.
    appends.length = 0;
    const first = streams.emitFrames([STREAM], [frame('fe')]);
    const pending = streams.emitFrames([STREAM], [frame('ff')]); // within the window of the one before
    await emit('after the frames');
    expect((await inStream()).slice(-3)).toEqual(['fe', 'ff', 'after the frames']);
    expect(appends.at(-1)).toBeGreaterThanOrEqual(2);
    await Promise.all([first, pending]);
  });

  it('samples frames per stream above the threshold and announces it before the first sampled frame', async () => {
    engine = new MemoryEngine();
    streams = new ConsoleStreams({ engine, log, sampleThreshold: 10 });
    for (const name of [STREAM, 'console:group:g'])
      streams.subscribe(name, { from: '0', live: '0' }, collector().sink);
    const frame = {
      ts,
      direction: 'rx' as const,
      dongle_id: '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
      id: '0x7E8',
      is_extended: false,
      dlc: 1,
      data: '01',
    };
    await streams.emitFrames(
      [STREAM, 'console:group:g'],
      Array.from({ length: 40 }, () => frame),
    );
    for (const name of [STREAM, 'console:group:g']) {
      const entries = (await engine.range(name, '0', 100)).map((e) => JSON.parse(e.data.toString()));
      const notices = entries.filter((e) => e.type === 'log');
      expect(notices[0]?.data).toMatchObject({
        code: 'console_sampling',
        details: { one_in: 2, threshold_per_s: 10 },
      });
      const firstNotice = entries.findIndex((e) => e.type === 'log');
      expect(firstNotice).toBe(10); // ten frames shown before the rate crossed the threshold
      expect(entries.filter((e) => e.type === 'can_frame').length).toBeLessThan(25);
    }
  });

  it('writes CAN frames only for consoles somebody watches, on this instance or another, and for a while after', async () => {
    let clock = 1_000_000;
    engine = new MemoryEngine(() => clock);
    streams = new ConsoleStreams({ engine, log, now: () => clock });
    const other = new ConsoleStreams({ engine, log, now: () => clock }); // a second instance on the same engine
    let batch = 0;
    // How many of n frames, sent now through `on`, the console stream received.
    const frames = async (on: ConsoleStreams, n: number) => {
      const data = (++batch).toString(16).padStart(2, '0');
      const frame = {
        ts,
        direction: 'rx' as const,
        dongle_id: 'd',
        id: '0x7E8',
        is_extended: false,
        dlc: 1,
        data,
      };
      await on.emitFrames(
        [STREAM],
        Array.from({ length: n }, () => frame),
      );
      const entries = await engine.range(STREAM, '0', 1000);
      return entries.filter((e) => e.data.includes(`"data":"${data}"`)).length;
    };
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    try {
      expect(await frames(streams, 5)).toBe(0); // nobody watches: nothing written
      const leave = other.subscribe(STREAM, { from: '0', live: '0' }, collector().sink);
      expect(await frames(other, 3)).toBe(3); // watched here: at once
      clock += 1000; // the first instance asks again after a second
      await frames(streams, 1);
      await settle();
      expect(await frames(streams, 2)).toBe(2);
      leave();
      clock += 60_000; // gone a minute: a client that dropped may still resume, so frames still go in
      await frames(streams, 1);
      await settle();
      expect(await frames(streams, 1)).toBe(1);
      clock += 40_000; // past the linger: written no more
      await frames(streams, 1);
      await settle();
      expect(await frames(streams, 4)).toBe(0);
    } finally {
      other.close();
    }
  });
});
