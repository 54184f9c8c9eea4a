import type { Group, GroupMode, GroupStateEvent } from '@canopy/protocol';

/*
 * A group's state as its console shows it: mode, each side online or not, and the backlog each way with the
 * progress of its catch-up. It starts from the group page's GET and follows each `group_state` event; both
 * say what the server knows now, so the latest wins.
 */

/** Frames waiting one way, and the most that waited since the backlog began (to measure the catch-up). */
export type Backlog = { frames: number; peak: number };

export type GroupLive = {
  mode: GroupMode;
  online: { a: boolean; b: boolean };
  a_to_b: Backlog;
  b_to_a: Backlog;
  pressure: boolean;
};

/** The backlog after a new count: the peak rises with it and starts over once everything was sent. */
export function nextBacklog(previous: Backlog | undefined, frames: number): Backlog {
  if (frames <= 0) return { frames: 0, peak: 0 };
  return { frames, peak: Math.max(previous?.peak ?? 0, frames) };
}

/**
 * Below this many frames a backlog is only the frames in flight on a busy bus (sent, not yet acknowledged by
 * the receiving node): no catch-up to show.
 */
export const CATCH_UP_MIN_FRAMES = 1_000;

/** How much of the backlog was sent since its peak (0–1), or null when it is not draining. */
export function catchUp(backlog: Backlog): number | null {
  if (backlog.frames === 0 || backlog.frames >= backlog.peak || backlog.peak < CATCH_UP_MIN_FRAMES)
    return null;
  return (backlog.peak - backlog.frames) / backlog.peak;
}

/**
 * From the group page's GET. Active means the relay bridges both sides, so both are shown online even while a
 * side's own presence (its node's report of the dongle) is a moment behind.
 */
export function fromGroup(group: Group, previous?: GroupLive): GroupLive {
  const active = group.mode === 'active';
  return {
    mode: group.mode,
    online: { a: active || group.a.online, b: active || group.b.online },
    a_to_b: nextBacklog(previous?.a_to_b, group.buffer.a_to_b),
    b_to_a: nextBacklog(previous?.b_to_a, group.buffer.b_to_a),
    pressure: group.buffer.pressure,
  };
}

/**
 * After a `group_state` event. Active means both sides are bridged; degraded names the offline sides (a cloud
 * that sends only `offline_side` names one: the other keeps what was known of it); inactive says nothing of
 * the sides.
 */
export function withGroupState(live: GroupLive, event: GroupStateEvent): GroupLive {
  let online = live.online;
  if (event.mode === 'active') online = { a: true, b: true };
  else if (event.mode === 'degraded' && event.offline_sides) {
    online = { a: !event.offline_sides.includes('a'), b: !event.offline_sides.includes('b') };
  } else if (event.mode === 'degraded' && event.offline_side) {
    online = { ...live.online, [event.offline_side]: false };
  }
  return {
    mode: event.mode,
    online,
    a_to_b: nextBacklog(live.a_to_b, event.buffered_frames_a_to_b),
    b_to_a: nextBacklog(live.b_to_a, event.buffered_frames_b_to_a),
    pressure: event.pressure ?? live.pressure,
  };
}
