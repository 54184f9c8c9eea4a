import { describe, expect, it } from 'vitest';
import { dataFor, decodeEntry, encodeEvent } from './entry';

const at = '2025-12-22T15:31:00.000Z';

describe('console entries', () => {
  it('round-trips an event through its stream entry', () => {
    const data = encodeEvent('log', { ts: at, level: 'info', message: 'hello' });
    const entry = decodeEntry({ id: '5-0', data });
    expect(entry).toEqual({
      id: '5-0',
      type: 'log',
      dataJson: JSON.stringify({ ts: at, level: 'info', message: 'hello' }),
      hasRequestId: false,
    });
  });

  it('skips entries that are not console events (a shared Redis holds anything)', () => {
    for (const raw of [
      '',
      'not json',
      '[]',
      '{"type":"nope","data":{}}',
      '{"type":"log","data":[]}',
      '{"type":"log"}',
    ]) {
      expect(decodeEntry({ id: '1-0', data: Buffer.from(raw) })).toBeNull();
    }
  });

  it('names the connection’s request in events that name none, and keeps the one an event names', () => {
    expect(JSON.parse(dataFor({ dataJson: '{"a":1}', hasRequestId: false }, 'sse-1'))).toEqual({
      request_id: 'sse-1',
      a: 1,
    });
    expect(JSON.parse(dataFor({ dataJson: '{}', hasRequestId: false }, 'sse-1'))).toEqual({
      request_id: 'sse-1',
    });
    const own = '{"request_id":"cmd-9","a":1}';
    expect(dataFor({ dataJson: own, hasRequestId: true }, 'sse-1')).toBe(own);
    expect(JSON.parse(dataFor({ dataJson: '{"x":"\\"}"}', hasRequestId: false }, 'a"b'))).toEqual({
      request_id: 'a"b',
      x: '"}',
    });
  });
});
