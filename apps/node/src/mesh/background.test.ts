import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLEANUP_EVERY_MS, DISCOVERY_EVERY_MS, FLUSH_EVERY_MS, startBackground } from './background';
import type { MeshService } from './service';

describe('background maintenance', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const stub = (discover: () => Promise<unknown>) => {
    const service = {
      discover: vi.fn(discover),
      cleanup: vi.fn(() => []),
      flushTouches: vi.fn(),
      log: { warn: vi.fn() },
    };
    return service;
  };

  it('pings the devices at start and every 60 s, and cleans up at start and daily', async () => {
    const s = stub(async () => ({ checked: 0, reachable: 0 }));
    const stop = startBackground(s as unknown as MeshService);
    expect(s.discover).toHaveBeenCalledTimes(1);
    expect(s.cleanup).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(DISCOVERY_EVERY_MS * 3);
    expect(s.discover).toHaveBeenCalledTimes(4);
    await vi.advanceTimersByTimeAsync(CLEANUP_EVERY_MS);
    expect(s.cleanup).toHaveBeenCalledTimes(2);
    expect(s.flushTouches.mock.calls.length).toBeGreaterThanOrEqual(CLEANUP_EVERY_MS / FLUSH_EVERY_MS);
    stop();
    const flushes = s.flushTouches.mock.calls.length;
    await vi.advanceTimersByTimeAsync(CLEANUP_EVERY_MS);
    expect(s.cleanup).toHaveBeenCalledTimes(2);
    expect(s.flushTouches).toHaveBeenCalledTimes(flushes);
  });

  it('does not start a round while the last one still runs, and survives a failing one', async () => {
    let release: () => void = () => undefined;
    let calls = 0;
    const s = stub(() => {
      calls++;
      if (calls === 1)
        return new Promise<void>((r) => {
          release = r;
        });
      return Promise.reject(new Error('boom'));
    });
    const stop = startBackground(s as unknown as MeshService);
    await vi.advanceTimersByTimeAsync(DISCOVERY_EVERY_MS * 2);
    expect(calls).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(DISCOVERY_EVERY_MS);
    expect(calls).toBe(2);
    expect(s.log.warn).toHaveBeenCalledWith(expect.anything(), 'device discovery failed');
    await vi.advanceTimersByTimeAsync(DISCOVERY_EVERY_MS);
    expect(calls).toBe(3);
    stop();
  });
});
