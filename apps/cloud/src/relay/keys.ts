import type { Side } from '@canopy/protocol/relay';

/*
 * Where the relay keeps its state in the stream engine (Redis when configured, with the engine's key prefix).
 * The stream names are spec 002 §13.3.4's.
 */

export type Direction = 'a_to_b' | 'b_to_a';
export const DIRECTIONS: readonly Direction[] = ['a_to_b', 'b_to_a'];

/** The direction frames from `side` travel in. */
export const fromSide = (side: Side): Direction => (side === 'a' ? 'a_to_b' : 'b_to_a');
/** The direction frames to `side` travel in. */
export const toSide = (side: Side): Direction => (side === 'b' ? 'a_to_b' : 'b_to_a');
export const receiverOf = (d: Direction): Side => (d === 'a_to_b' ? 'b' : 'a');
export const otherSide = (side: Side): Side => (side === 'a' ? 'b' : 'a');

export const relayKeys = {
  /** The buffer: undelivered (or unacknowledged) DELIVER messages, oldest first. */
  stream: (groupId: string, d: Direction) => `group:${groupId}:${d}`,
  /** The last frame number given out in this direction. */
  seq: (groupId: string, d: Direction) => `relay:${groupId}:${d}:seq`,
  /** The numbering's epoch (a new one when the numbering starts over). */
  epoch: (groupId: string, d: Direction) => `relay:${groupId}:${d}:epoch`,
  /** `epoch:seq` — every frame ≤ seq was written to the receiving dongle. */
  acked: (groupId: string, d: Direction) => `relay:${groupId}:${d}:acked`,
  /** The last frame number trimmed away unsent (retention). */
  floor: (groupId: string, d: Direction) => `relay:${groupId}:${d}:floor`,
  /** `{agent_id, at}` of the node bridging this side now, refreshed while it does. */
  side: (groupId: string, side: Side) => `relay:${groupId}:side:${side}`,
};
