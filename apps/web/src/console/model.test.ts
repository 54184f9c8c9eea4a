import type { Group } from '@canopy/protocol';
import { describe, expect, it } from 'vitest';
import { ConsoleModel, GROUP_STATE_FRESH_MS, MAX_FRAMES } from './model';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const GROUP = '0b7a3c1e-2d4f-4a5b-9c6d-7e8f9a0b1c2d';
const T = 1_766_417_462_000;

const frame = (dongle_id: string, id: string, data: string, direction: 'rx' | 'tx' = 'rx') =>
  JSON.stringify({
    ts: '2025-12-22T15:31:02.123Z',
    direction,
    dongle_id,
    group_id: GROUP,
    id,
    is_extended: false,
    dlc: data.length / 2,
    data,
  });
const groupConsole = () => new ConsoleModel({ kind: 'group', id: GROUP, a: A, b: B });

describe('ConsoleModel', () => {
  it('tells the directions of a group apart by the dongle that read the frame', () => {
    const model = groupConsole();
    model.receive('can_frame', frame(B, '0x7DF', '02010C0000000000'), T);
    model.receive('can_frame', frame(A, '0x7E8', '04410C1AF8AAAAAA'), T + 5);
    model.receive('can_frame', frame(B, '0x7E8', '04410C1AF8AAAAAA', 'tx'), T + 6);
    expect(model.frames().map((f) => [f.way, f.id])).toEqual([
      ['a_to_b', 0x7e8],
      ['a_to_b', 0x7e8],
      ['b_to_a', 0x7df],
    ]);
    expect(model.frames()[2]).toMatchObject({ n: 1, dlc: 8, data: '02010C0000000000', extended: false });
  });

  it('shows RX and TX on a dongle console', () => {
    const model = new ConsoleModel({ kind: 'dongle', id: A });
    model.receive('can_frame', frame(A, '0x100', '00'), T);
    model.receive('can_frame', frame(A, '0x200', '01', 'tx'), T);
    expect(model.frames().map((f) => f.way)).toEqual(['tx', 'rx']);
  });

  it('counts and skips what is not a console event, or is of another dongle', () => {
    const model = groupConsole();
    expect(model.receive('can_frame', '{oops', T)).toBe(false);
    expect(model.receive('can_frame', frame(A, '7E8', '00'), T)).toBe(false);
    expect(model.receive('can_frame', frame('33333333-3333-4333-8333-333333333333', '0x7E8', '00'), T)).toBe(
      false,
    );
    expect(model.receive('surprise', '{}', T)).toBe(false);
    expect(model.ignored).toBe(4);
    expect(model.frames()).toEqual([]);
    expect(model.receive('can_frame', frame(A, '0x7E8', '00'), T)).toBe(true);
    expect(model.ignored).toBe(4);
  });

  it('keeps the newest 10,000 frames', () => {
    const model = groupConsole();
    const text = frame(A, '0x100', '00000000');
    for (let i = 0; i < MAX_FRAMES + 2_500; i++) model.receive('can_frame', text, T + i);
    expect(model.frames()).toHaveLength(MAX_FRAMES);
    expect(model.received).toBe(12_500);
    expect(model.frames()[0]?.n).toBe(12_500);
    expect(model.frames().at(-1)?.n).toBe(2_501);
  });

  it('holds the table still while paused, counting the new frames, and catches up on resume', () => {
    const model = groupConsole();
    model.receive('can_frame', frame(A, '0x100', '01'), T);
    model.pause();
    const shown = model.frames();
    for (let i = 0; i < 30; i++) model.receive('can_frame', frame(A, '0x101', '02'), T + i);
    expect(model.frames()).toBe(shown);
    expect(model.frames()).toHaveLength(1);
    expect(model.newWhilePaused).toBe(30);
    model.resume();
    expect(model.frames()).toHaveLength(31);
    expect(model.newWhilePaused).toBe(0);
  });

  it('counts the arrivals for the rate', () => {
    const model = groupConsole();
    for (let i = 0; i < 40; i++) model.receive('can_frame', frame(A, '0x100', '01'), T + i * 10);
    expect(model.rate.perSecond(T + 1_000)).toBe(40);
  });

  it('follows the sampling notices', () => {
    const model = groupConsole();
    const log = (code: string, one_in: number) =>
      JSON.stringify({
        ts: '2025-12-22T15:31:02.000Z',
        level: 'warn',
        code,
        message: 'm',
        details: { one_in, rate_per_s: 2000 },
      });
    model.receive('log', log('console_sampling', 4), T);
    expect(model.oneIn).toBe(4);
    model.receive('log', log('console_sampling_stopped', 1), T);
    expect(model.oneIn).toBe(1);
    expect(model.notices.map((n) => n.code)).toEqual(['console_sampling_stopped', 'console_sampling']);
    expect(model.notices[1]).toMatchObject({ oneIn: 4, ratePerS: 2000 });
  });

  it('notes a stream reset and carries on', () => {
    const model = groupConsole();
    const reset = {
      reason: 'too_old',
      message: 'm',
      last_event_id: '1-0',
      oldest_id: '2-0',
      newest_id: '3-0',
    };
    model.receive('stream_reset', JSON.stringify(reset), T);
    expect(model.resetAt).toBe(T);
    model.receive('can_frame', frame(A, '0x100', '01'), T + 1);
    expect(model.frames()).toHaveLength(1);
  });

  it('starts from the group page and follows group_state', () => {
    const model = groupConsole();
    const state = JSON.stringify({
      group_id: GROUP,
      mode: 'degraded',
      offline_side: 'b',
      buffered_frames_a_to_b: 120,
      buffered_frames_b_to_a: 0,
    });
    expect(model.receive('group_state', state, T)).toBe(false); // nothing to apply it to yet
    const side = (dongle_id: string) => ({
      dongle_id,
      device_id: '0011223344556677',
      online: true,
      agent_id: null,
    });
    const group: Group = {
      id: GROUP,
      name: 'Workshop',
      mode: 'active',
      a: side(A),
      b: side(B),
      buffer: { a_to_b: 0, b_to_a: 0, pressure: false },
      created_at: '2030-01-01T10:00:00.000Z',
      updated_at: '2030-01-01T10:00:00.000Z',
    };
    model.seedGroup(group, T);
    expect(model.receive('group_state', state, T)).toBe(true);
    expect(model.group).toMatchObject({
      mode: 'degraded',
      online: { a: true, b: false },
      a_to_b: { frames: 120 },
    });
    // A GET answered just after the event may be older than it: the event stands for a while…
    model.seedGroup(group, T + GROUP_STATE_FRESH_MS - 1);
    expect(model.group?.mode).toBe('degraded');
    // …then the page's GET corrects the console again when the stream is quiet.
    model.seedGroup(group, T + GROUP_STATE_FRESH_MS);
    expect(model.group?.mode).toBe('active');
    // Its dongles' presence moves a side at once; another dongle's does not.
    const presence = (dongle_id: string, online: boolean) =>
      JSON.stringify({ dongle_id, online, agent_id: null, seen_at: null });
    model.receive('presence', presence(A, false), T + GROUP_STATE_FRESH_MS + 1);
    expect(model.group?.online).toEqual({ a: false, b: true });
    model.receive(
      'presence',
      presence('99999999-9999-4999-8999-999999999999', false),
      T + GROUP_STATE_FRESH_MS + 2,
    );
    expect(model.group?.online).toEqual({ a: false, b: true });
    model.receive('presence', presence(A, true), T + GROUP_STATE_FRESH_MS + 3);
    expect(model.group?.online).toEqual({ a: true, b: true });
  });

  it('records presence and command progress', () => {
    const model = new ConsoleModel({ kind: 'dongle', id: A });
    model.receive(
      'presence',
      JSON.stringify({ dongle_id: A, online: false, agent_id: null, seen_at: null }),
      T,
    );
    expect(model.presence.get(A)).toBe(false);
    model.receive(
      'command_status',
      JSON.stringify({
        command_id: '44444444-4444-4444-8444-444444444444',
        dongle_id: A,
        command: 'remote status',
        status: 'timeout',
        at: '2025-12-22T15:31:03.000Z',
      }),
      T,
    );
    expect(model.notices[0]).toMatchObject({
      level: 'error',
      code: 'command_timeout',
      message: 'remote status',
    });
  });
});
