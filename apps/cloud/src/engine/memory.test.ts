import { describe, expect, it } from 'vitest';
import { MemoryEngine } from './memory';

describe('MemoryEngine counters', () => {
  it('counts hits within a window and starts again after it', async () => {
    let now = 1_000_000;
    const engine = new MemoryEngine(() => now);
    expect(await engine.hit('k', 10_000)).toEqual({ count: 1, resetInMs: 10_000 });
    now += 4_000;
    expect(await engine.hit('k', 10_000)).toEqual({ count: 2, resetInMs: 6_000 });
    expect(await engine.peek('k')).toEqual({ count: 2, resetInMs: 6_000 });
    now += 6_000;
    expect(await engine.peek('k')).toEqual({ count: 0, resetInMs: 0 });
    expect((await engine.hit('k', 10_000)).count).toBe(1);
    await engine.close();
  });

  it('keeps keys apart and fails its health check once closed', async () => {
    const engine = new MemoryEngine();
    await engine.hit('a', 1000);
    await engine.hit('a', 1000);
    await engine.hit('b', 1000);
    expect((await engine.peek('a')).count).toBe(2);
    expect((await engine.peek('b')).count).toBe(1);
    await engine.close();
    await expect(engine.ping()).rejects.toThrow(/closed/);
  });
});
