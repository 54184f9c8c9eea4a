import type { Group, GroupStateEvent } from '@canopy/protocol';
import { describe, expect, it } from 'vitest';
import {
  CATCH_UP_MIN_FRAMES,
  catchUp,
  fromGroup,
  type GroupLive,
  nextBacklog,
  withGroupState,
} from './groupLive';

const GROUP_ID = '0b7a3c1e-2d4f-4a5b-9c6d-7e8f9a0b1c2d';
const group = (over: Partial<Group> = {}): Group => ({
  id: GROUP_ID,
  name: 'Workshop',
  mode: 'active',
  a: {
    dongle_id: '11111111-1111-4111-8111-111111111111',
    device_id: '0011223344556677',
    online: true,
    agent_id: null,
  },
  b: {
    dongle_id: '22222222-2222-4222-8222-222222222222',
    device_id: '8899aabbccddeeff',
    online: true,
    agent_id: null,
  },
  buffer: { a_to_b: 0, b_to_a: 0, pressure: false },
  created_at: '2030-01-01T10:00:00.000Z',
  updated_at: '2030-01-01T10:00:00.000Z',
  ...over,
});
const state = (over: Partial<GroupStateEvent>): GroupStateEvent => ({
  group_id: GROUP_ID,
  mode: 'active',
  offline_side: null,
  buffered_frames_a_to_b: 0,
  buffered_frames_b_to_a: 0,
  ...over,
});

describe('backlog and catch-up', () => {
  it('rises with the frames waiting; no progress while it grows', () => {
    let backlog = nextBacklog(undefined, 100);
    backlog = nextBacklog(backlog, 12_000);
    expect(backlog).toEqual({ frames: 12_000, peak: 12_000 });
    expect(catchUp(backlog)).toBeNull();
  });

  it('measures the catch-up from the peak while it drains', () => {
    const backlog = nextBacklog({ frames: 12_000, peak: 12_000 }, 3_000);
    expect(backlog).toEqual({ frames: 3_000, peak: 12_000 });
    expect(catchUp(backlog)).toBe(0.75);
  });

  it('shows no catch-up for the few frames in flight on a busy bus', () => {
    const inFlight = nextBacklog({ frames: 98, peak: 98 }, 96);
    expect(inFlight).toEqual({ frames: 96, peak: 98 });
    expect(catchUp(inFlight)).toBeNull();
    expect(catchUp({ frames: 500, peak: CATCH_UP_MIN_FRAMES })).toBe(0.5);
  });

  it('starts over once everything was sent', () => {
    const drained = nextBacklog({ frames: 3_000, peak: 12_000 }, 0);
    expect(drained).toEqual({ frames: 0, peak: 0 });
    expect(catchUp(drained)).toBeNull();
    expect(nextBacklog(drained, 50)).toEqual({ frames: 50, peak: 50 });
  });
});

describe('a group console follows the group', () => {
  it('starts from the group page', () => {
    const live = fromGroup(
      group({
        mode: 'degraded',
        b: { ...group().b, online: false },
        buffer: { a_to_b: 40, b_to_a: 0, pressure: true },
      }),
    );
    expect(live).toEqual({
      mode: 'degraded',
      online: { a: true, b: false },
      a_to_b: { frames: 40, peak: 40 },
      b_to_a: { frames: 0, peak: 0 },
      pressure: true,
    });
  });

  it('shows both sides of an active group online, even while a side’s presence lags behind', () => {
    expect(fromGroup(group({ b: { ...group().b, online: false } })).online).toEqual({ a: true, b: true });
    expect(fromGroup(group({ mode: 'inactive', b: { ...group().b, online: false } })).online).toEqual({
      a: true,
      b: false,
    });
  });

  it('marks the offline side of a degraded group, keeping what it knew of the other', () => {
    const live = fromGroup(group());
    const degraded = withGroupState(
      live,
      state({ mode: 'degraded', offline_side: 'b', buffered_frames_a_to_b: 9_000 }),
    );
    expect(degraded.mode).toBe('degraded');
    expect(degraded.online).toEqual({ a: true, b: false });
    expect(degraded.a_to_b).toEqual({ frames: 9_000, peak: 9_000 });
  });

  it('marks both sides offline when the relay names both, and one back online when it names one', () => {
    const both = withGroupState(
      fromGroup(group()),
      state({ mode: 'degraded', offline_side: 'a', offline_sides: ['a', 'b'] }),
    );
    expect(both.online).toEqual({ a: false, b: false });
    const oneBack = withGroupState(
      both,
      state({ mode: 'degraded', offline_side: 'b', offline_sides: ['b'] }),
    );
    expect(oneBack.online).toEqual({ a: true, b: false });
  });

  it('shows both sides online once active again, and the backlog draining', () => {
    const before: GroupLive = {
      mode: 'degraded',
      online: { a: true, b: false },
      a_to_b: { frames: 9_000, peak: 9_000 },
      b_to_a: { frames: 0, peak: 0 },
      pressure: false,
    };
    const after = withGroupState(before, state({ mode: 'active', buffered_frames_a_to_b: 6_000 }));
    expect(after.online).toEqual({ a: true, b: true });
    expect(catchUp(after.a_to_b)).toBeCloseTo(1 / 3);
  });

  it('keeps the sides as they were when the group is deactivated', () => {
    const live = { ...fromGroup(group()), online: { a: true, b: false } };
    expect(withGroupState(live, state({ mode: 'inactive' })).online).toEqual({ a: true, b: false });
  });

  it('shows the buffer pressure warning while the relay reports it, and keeps it when an event does not say', () => {
    const live = withGroupState(
      fromGroup(group()),
      state({ mode: 'degraded', offline_side: 'a', pressure: true }),
    );
    expect(live.pressure).toBe(true);
    expect(withGroupState(live, state({ mode: 'degraded', offline_side: 'a' })).pressure).toBe(true);
    expect(withGroupState(live, state({ mode: 'active', pressure: false })).pressure).toBe(false);
  });
});
