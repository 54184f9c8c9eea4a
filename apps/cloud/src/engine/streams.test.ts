import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { StreamEngine } from './engine';
import { MemoryEngine } from './memory';
import { RedisEngine } from './redis';
import { compareStreamIds, nextStreamId } from './stream-id';

// The streams contract, pinned on both engines: the in-process one and real Redis. Without CI an unreachable
// Redis skips its half with a warning; with CI=true it fails.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function redisProblem(): Promise<string | undefined> {
  try {
    const engine = await RedisEngine.connect(REDIS_URL);
    await engine.ping();
    await engine.close();
    return undefined;
  } catch (err) {
    if (process.env.CI) throw new Error(`CI=true but Redis at ${REDIS_URL} is unreachable: ${err}`);
    console.warn(`\n!! Skipping the Redis stream-engine tests: ${(err as Error).message}\n`);
    return String(err);
  }
}

type Made = { engine: StreamEngine; cleanup(): Promise<void> };
const engines: Array<{ name: string; make(): Promise<Made> }> = [
  {
    name: 'memory',
    async make() {
      const engine = new MemoryEngine();
      return { engine, cleanup: () => engine.close() };
    },
  },
];
if (!(await redisProblem())) {
  engines.push({
    name: 'redis',
    async make() {
      const engine = await RedisEngine.connect(REDIS_URL, {
        prefix: `canopy-test:engine:${randomBytes(6).toString('hex')}:`,
      });
      return {
        engine,
        cleanup: async () => {
          await engine.clearPrefix();
          await engine.close();
        },
      };
    },
  });
}

const buf = (s: string) => Buffer.from(s);
const texts = (entries: Array<{ data: Buffer }>) => entries.map((e) => e.data.toString());

describe.each(engines)('stream engine streams on $name', ({ make }) => {
  let made: Made | undefined;
  const open = async () => {
    made = await make();
    return made.engine;
  };
  afterEach(async () => {
    await made?.cleanup();
    made = undefined;
  });

  it('appends in order with strictly increasing ids in the Redis format, and reads after an id', async () => {
    const engine = await open();
    const ids = await engine.append('s', ['a', 'b', 'c'].map(buf));
    ids.push(...(await engine.append('s', ['d', 'e'].map(buf))));
    for (let i = 0; i < 300; i++) ids.push(...(await engine.append('s', [buf(`x${i}`)])));
    expect(ids).toHaveLength(305);
    for (const id of ids) expect(id).toMatch(/^\d+-\d+$/);
    for (let i = 1; i < ids.length; i++)
      expect(compareStreamIds(ids[i - 1] as string, ids[i] as string)).toBe(-1);
    expect(texts(await engine.range('s', '0', 5))).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(texts(await engine.range('s', ids[1] as string, 2))).toEqual(['c', 'd']);
    expect((await engine.range('s', ids.at(-1) as string, 10)).length).toBe(0);
    expect((await engine.range('s', '0', 1000)).map((e) => e.id)).toEqual(ids);
    expect(await engine.range('nothing-here', '0', 10)).toEqual([]);
    expect(await engine.append('s', [])).toEqual([]);
  });

  it('keeps streams apart', async () => {
    const engine = await open();
    await engine.append('one', [buf('1')]);
    await engine.append('two', [buf('2')]);
    expect(texts(await engine.range('one', '0', 10))).toEqual(['1']);
    expect(texts(await engine.range('two', '0', 10))).toEqual(['2']);
  });

  it('round-trips binary data: every byte value, and an empty entry', async () => {
    const engine = await open();
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const reversed = Buffer.from(all).reverse();
    await engine.append('bin', [all, reversed, Buffer.alloc(0)]);
    const [a, b, empty] = await engine.range('bin', '0', 10);
    expect(a?.data.equals(all)).toBe(true);
    expect(b?.data.equals(reversed)).toBe(true);
    expect(empty?.data.length).toBe(0);
    const reader = engine.openReader();
    const [viaReader] = await reader.read('bin', '0', 1, 0);
    expect(viaReader?.data.equals(all)).toBe(true);
    await reader.close();
  });

  it('wakes a blocked read within a few milliseconds of an append', async () => {
    const engine = await open();
    const [first] = await engine.append('live', [buf('old')]);
    const reader = engine.openReader();
    // Prime the reader's connection so the timing below measures the wake-up, not a connect.
    await reader.read('live', '0', 1, 0);
    const started = performance.now();
    const pending = reader.read('live', first as string, 10, 5000);
    await new Promise((r) => setTimeout(r, 50));
    const appendedAt = performance.now();
    await engine.append('live', [buf('new'), buf('newer')]);
    const got = await pending;
    const wokeAfter = performance.now() - appendedAt;
    expect(texts(got)).toEqual(['new', 'newer']);
    expect(appendedAt - started).toBeGreaterThanOrEqual(45);
    expect(wokeAfter).toBeLessThan(30);
    await reader.close();
  });

  it('returns [] when the block time passes, and at once with blockMs 0', async () => {
    const engine = await open();
    const reader = engine.openReader();
    let t = performance.now();
    expect(await reader.read('quiet', '0', 10, 0)).toEqual([]);
    expect(performance.now() - t).toBeLessThan(100);
    t = performance.now();
    expect(await reader.read('quiet', '0', 10, 150)).toEqual([]);
    const waited = performance.now() - t;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(1000);
    // Entries already there come back at once, at most `count` of them.
    await engine.append('quiet', ['1', '2', '3'].map(buf));
    expect(texts(await reader.read('quiet', '0', 2, 5000))).toEqual(['1', '2']);
    await reader.close();
  });

  it('rejects reads of a closed reader, a pending one included', async () => {
    const engine = await open();
    const reader = engine.openReader();
    await reader.read('x', '0', 1, 0);
    const pending = reader.read('x', '0', 1, 10_000);
    const outcome = pending.then(
      () => 'resolved',
      () => 'rejected',
    );
    await new Promise((r) => setTimeout(r, 30));
    const closedAt = performance.now();
    await reader.close();
    expect(await outcome).toBe('rejected');
    expect(performance.now() - closedAt).toBeLessThan(500);
    await expect(reader.read('x', '0', 1, 0)).rejects.toThrow();
    // Other readers and the engine go on.
    const other = engine.openReader();
    await engine.append('x', [buf('still')]);
    expect(texts(await other.read('x', '0', 1, 100))).toEqual(['still']);
    await other.close();
  });

  it('trims before an id and to a length, counting what went; reports length, first and last id', async () => {
    const engine = await open();
    expect(await engine.streamInfo('t')).toEqual({ length: 0, firstId: null, lastId: null });
    expect(await engine.trimBefore('t', '1-0')).toBe(0);
    expect(await engine.trimToLength('t', 5)).toBe(0);
    const ids = await engine.append(
      't',
      Array.from({ length: 10 }, (_, i) => buf(String(i))),
    );
    expect(await engine.streamInfo('t')).toEqual({ length: 10, firstId: ids[0], lastId: ids[9] });
    expect(await engine.trimBefore('t', ids[3] as string)).toBe(3);
    expect(texts(await engine.range('t', '0', 100))[0]).toBe('3');
    expect(await engine.trimBefore('t', ids[3] as string)).toBe(0);
    expect(await engine.trimBefore('t', nextStreamId(ids[4] as string))).toBe(2);
    expect(await engine.trimToLength('t', 3)).toBe(2);
    expect(texts(await engine.range('t', '0', 100))).toEqual(['7', '8', '9']);
    expect(await engine.trimToLength('t', 10)).toBe(0);
    expect(await engine.streamInfo('t')).toEqual({ length: 3, firstId: ids[7], lastId: ids[9] });
    // Ids keep increasing after a trim to nothing.
    expect(await engine.trimToLength('t', 0)).toBe(3);
    expect(await engine.streamInfo('t')).toEqual({ length: 0, firstId: null, lastId: null });
    const [after] = await engine.append('t', [buf('later')]);
    expect(compareStreamIds(after as string, ids[9] as string)).toBe(1);
  });

  it('deletes a stream', async () => {
    const engine = await open();
    await engine.append('gone', [buf('a'), buf('b')]);
    await engine.deleteStream('gone');
    expect(await engine.streamInfo('gone')).toEqual({ length: 0, firstId: null, lastId: null });
    expect(await engine.range('gone', '0', 10)).toEqual([]);
    await engine.deleteStream('never-was');
  });

  it('counts with incrBy and keeps plain values', async () => {
    const engine = await open();
    expect(await engine.getValue('n')).toBeNull();
    expect(await engine.incrBy('n', 5)).toBe(5);
    expect(await engine.incrBy('n', 1000)).toBe(1005);
    expect(await engine.incrBy('n', -5)).toBe(1000);
    expect(await engine.getValue('n')).toBe('1000');
    await engine.setValue('v', 'hello:1');
    await engine.setValue('v', 'hello:2');
    expect(await engine.getValue('v')).toBe('hello:2');
    await expect(engine.incrBy('v', 1)).rejects.toThrow(/not an integer/);
    await engine.deleteValues('n', 'v', 'absent');
    expect(await engine.getValue('n')).toBeNull();
    expect(await engine.getValue('v')).toBeNull();
    await engine.deleteValues();
  });

  it('numbers entries as it appends them: the counter, the epoch kept or started, the numbers in the bytes', async () => {
    const engine = await open();
    const data = Buffer.alloc(40, 0xaa);
    const append = (count: number, epochIfNew: number) =>
      engine.appendNumbered('numbered', {
        counterKey: 'numbered:seq',
        epochKey: 'numbered:epoch',
        count,
        epochIfNew,
        data,
        epochOffset: 20,
        seqOffset: 24,
      });
    const first = await append(3, 7);
    expect(first).toMatchObject({ last: 3, epoch: 7, epochStarted: true });
    const second = await append(2 ** 33, 99); // the epoch stays; a first number past 32 bits is written whole
    expect(second).toMatchObject({ last: 2 ** 33 + 3, epoch: 7, epochStarted: false });
    const entries = await engine.range('numbered', '0', 10);
    expect(entries.map((e) => e.id)).toEqual([first.id, second.id]);
    for (const [entry, seq] of [
      [entries[0], 1],
      [entries[1], 4],
    ] as const) {
      expect(entry?.data.readUInt32BE(20)).toBe(7);
      expect(Number(entry?.data.readBigUInt64BE(24))).toBe(seq);
      expect(entry?.data.subarray(0, 20).equals(data.subarray(0, 20))).toBe(true);
      expect(entry?.data.subarray(32).equals(data.subarray(32))).toBe(true);
      expect(entry?.data.length).toBe(40);
    }
    expect(await engine.getValue('numbered:epoch')).toBe('7');
    // The counter lost (a Redis without persistence restarted): the numbering starts again, in a new epoch.
    await engine.deleteValues('numbered:seq');
    expect(await append(5, 8)).toMatchObject({ last: 5, epoch: 8, epochStarted: true });
    expect(await append(1, 9)).toMatchObject({ last: 6, epoch: 8, epochStarted: false });
    await engine.deleteStream('numbered');
    await engine.deleteValues('numbered:seq', 'numbered:epoch');
  });

  it('lets a value set with a time to live go after it, and a set without one keep it', async () => {
    const engine = await open();
    await engine.setValue('short', 'x', 60);
    await engine.setValue('kept', 'y', 60);
    await engine.setValue('kept', 'z');
    expect(await engine.getValue('short')).toBe('x');
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await engine.getValue('short')).toBeNull();
    expect(await engine.getValue('kept')).toBe('z');
    await engine.deleteValues('kept');
  });
});

describe('MemoryEngine stream ids', () => {
  it('uses its clock’s milliseconds, counts within one millisecond and never goes backwards with the clock', async () => {
    let now = 1_700_000_000_000;
    const engine = new MemoryEngine(() => now);
    expect(await engine.append('s', [buf('a'), buf('b')])).toEqual(['1700000000000-0', '1700000000000-1']);
    now += 5;
    expect(await engine.append('s', [buf('c')])).toEqual(['1700000000005-0']);
    now -= 60_000; // the clock is set back
    expect(await engine.append('s', [buf('d')])).toEqual(['1700000000005-1']);
    now += 120_000;
    expect(await engine.append('s', [buf('e')])).toEqual(['1700000060005-0']);
    await engine.close();
  });

  it('rejects pending reads when the engine closes', async () => {
    const engine = new MemoryEngine();
    const pending = engine.openReader().read('s', '0', 1, 10_000);
    await engine.close();
    await expect(pending).rejects.toThrow(/closed/);
  });
});

/** A TCP proxy in front of Redis that the test can cut and restore, as a Redis restart would look. */
class CuttableProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async start(port = 0): Promise<void> {
    const target = new URL(REDIS_URL);
    this.server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 6379), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

describe.runIf(engines.length > 1)('RedisEngine through a Redis outage', () => {
  const proxy = new CuttableProxy();
  let engine: RedisEngine | undefined;
  afterAll(async () => {
    await engine?.clearPrefix().catch(() => {});
    await engine?.close();
    await proxy.cut().catch(() => {});
  });

  it('rejects operations during the outage with an error to retry, and works again once Redis is back', async () => {
    await proxy.start();
    engine = await RedisEngine.connect(`redis://127.0.0.1:${proxy.port}`, {
      prefix: `canopy-test:outage:${randomBytes(6).toString('hex')}:`,
    });
    const [first] = await engine.append('s', [buf('before')]);
    const reader = engine.openReader();
    expect(texts(await reader.read('s', '0', 10, 0))).toEqual(['before']);
    const blocked = reader.read('s', first as string, 10, 20_000).then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    await new Promise((r) => setTimeout(r, 50));

    await proxy.cut();
    const t = performance.now();
    await expect(engine.append('s', [buf('during')])).rejects.toThrow();
    await expect(engine.getValue('k')).rejects.toThrow();
    expect(performance.now() - t).toBeLessThan(10_000);
    expect(await blocked).not.toBe('resolved');

    await proxy.start(proxy.port);
    await expect
      .poll(
        async () =>
          engine?.append('s', [buf('after')]).then(
            () => true,
            () => false,
          ),
        { timeout: 15_000, interval: 200 },
      )
      .toBe(true);
    let got: string[] = [];
    await expect
      .poll(
        async () => {
          got = texts(await reader.read('s', first as string, 10, 0).catch(() => []));
          return got.length > 0;
        },
        { timeout: 15_000, interval: 200 },
      )
      .toBe(true);
    expect(got[0]).toBe('after');
    await reader.close();
  }, 40_000);
});
