import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, parseConsoleEvent } from './events';

const DONGLE = '9f1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
const frame = {
  ts: '2025-12-22T15:31:02.000Z',
  direction: 'rx',
  dongle_id: DONGLE,
  id: '0x7E8',
  is_extended: false,
  dlc: 8,
  data: '04410C1AF8AAAAAA',
  request_id: 'r1',
};

describe('parseConsoleEvent', () => {
  it('knows the six event types of the console', () => {
    expect(EVENT_TYPES.sort()).toEqual(
      ['can_frame', 'command_status', 'group_state', 'log', 'presence', 'stream_reset'].sort(),
    );
  });

  it('reads a CAN frame', () => {
    expect(parseConsoleEvent('can_frame', JSON.stringify(frame))).toEqual({ type: 'can_frame', data: frame });
  });

  it('reads a sampling notice', () => {
    const log = {
      ts: '2025-12-22T15:31:02.000Z',
      level: 'warn',
      code: 'console_sampling',
      message: 'Console sampling on',
      details: { one_in: 4 },
    };
    expect(parseConsoleEvent('log', JSON.stringify(log))?.data).toEqual(log);
  });

  it('ignores an unknown type, data that is not JSON, and data that breaks the schema', () => {
    expect(parseConsoleEvent('message', JSON.stringify(frame))).toBeNull();
    expect(parseConsoleEvent('toString', '{}')).toBeNull();
    expect(parseConsoleEvent('can_frame', '{"ts":')).toBeNull();
    expect(parseConsoleEvent('can_frame', JSON.stringify({ ...frame, id: '7E8' }))).toBeNull();
    expect(parseConsoleEvent('can_frame', JSON.stringify({ ...frame, data: '0441zz' }))).toBeNull();
    expect(parseConsoleEvent('presence', JSON.stringify({ online: true }))).toBeNull();
  });
});
