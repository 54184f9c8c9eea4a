import { describe, expect, it } from 'vitest';
import { compareStreamIds, isStreamId, nextStreamId, parseStreamId, streamIdTime } from './stream-id';

describe('stream ids', () => {
  it('orders by milliseconds, then by sequence, numerically rather than as text', () => {
    expect(compareStreamIds('1700000000000-0', '1700000000000-1')).toBeLessThan(0);
    expect(compareStreamIds('1700000000000-10', '1700000000000-9')).toBeGreaterThan(0);
    expect(compareStreamIds('999-5', '1000-0')).toBeLessThan(0);
    expect(compareStreamIds('5-0', '5')).toBe(0);
    expect(compareStreamIds('0', '0-1')).toBeLessThan(0);
  });

  it('gives the smallest id after an id, and the time of an id', () => {
    expect(nextStreamId('1700000000000-3')).toBe('1700000000000-4');
    expect(nextStreamId('0')).toBe('0-1');
    expect(compareStreamIds(nextStreamId('42-7'), '42-7')).toBeGreaterThan(0);
    expect(streamIdTime('1700000000123-9')).toBe(1_700_000_000_123);
  });

  it('refuses what is not an id (a Last-Event-ID header is client input)', () => {
    for (const bad of ['', '-', '1-', '-1', 'abc', '1-2-3', '1.5-0', ' 1-0', '12345678901234567-0']) {
      expect(isStreamId(bad)).toBe(false);
      expect(() => parseStreamId(bad)).toThrow(/not a stream id/);
    }
    expect(isStreamId('1700000000000-0')).toBe(true);
    expect(parseStreamId('7')).toEqual([7, 0]);
  });
});
