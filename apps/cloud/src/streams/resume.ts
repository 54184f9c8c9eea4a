import type { StreamResetEvent } from '@canopy/protocol';
import { compareStreamIds, isStreamId } from '../engine/stream-id';

type Info = { length: number; firstId: string | null; lastId: string | null };

/**
 * Whether a client that last saw `lastEventId` can resume from the stream as it is now: only when that id is
 * still inside it (the stream is trimmed from its oldest end, and never of its newest entry, so every entry
 * after the id is still there). Otherwise the stream_reset to send.
 */
export function resumeProblem(lastEventId: string, info: Info): Omit<StreamResetEvent, 'request_id'> | null {
  const base = { last_event_id: lastEventId.slice(0, 64), oldest_id: info.firstId, newest_id: info.lastId };
  if (!isStreamId(lastEventId) || info.firstId === null || info.lastId === null) {
    return {
      reason: 'unknown_id',
      message: 'That event id is not in this console stream; live events follow',
      ...base,
    };
  }
  if (compareStreamIds(lastEventId, info.firstId) < 0) {
    return {
      reason: 'too_old',
      message: 'Events after that id are no longer kept; live events follow',
      ...base,
    };
  }
  if (compareStreamIds(lastEventId, info.lastId) > 0) {
    return {
      reason: 'unknown_id',
      message: 'That event id is newer than this console stream; live events follow',
      ...base,
    };
  }
  return null;
}
