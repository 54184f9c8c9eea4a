import type { ConsoleEventData, ConsoleEventType } from '@canopy/protocol';
import { ConsoleEventSchemas } from '@canopy/protocol';
import type { StreamEntry } from '../engine';

/** One console event read back from its stream, its data serialized once for every connection. */
export type ConsoleEntry = {
  id: string;
  type: ConsoleEventType;
  dataJson: string;
  /** Whether the data names the request that caused it; if not, a connection names its own. */
  hasRequestId: boolean;
};

const TYPES = new Set<string>(Object.keys(ConsoleEventSchemas));

/** What a console stream entry holds: JSON `{type, data}`. */
export function encodeEvent<T extends ConsoleEventType>(type: T, data: ConsoleEventData<T>): Buffer {
  return Buffer.from(JSON.stringify({ type, data }));
}

/** The entry as an event, or null for anything that is not one (never trusted blindly: Redis is shared). */
export function decodeEntry(raw: StreamEntry): ConsoleEntry | null {
  try {
    const parsed = JSON.parse(raw.data.toString('utf8')) as { type?: unknown; data?: unknown };
    const { type, data } = parsed;
    if (typeof type !== 'string' || !TYPES.has(type)) return null;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
    return {
      id: raw.id,
      type: type as ConsoleEventType,
      dataJson: JSON.stringify(data),
      hasRequestId: typeof (data as { request_id?: unknown }).request_id === 'string',
    };
  } catch {
    return null;
  }
}

/** The data JSON as one connection sends it: with `request_id` when the event does not name one itself. */
export function dataFor(entry: Pick<ConsoleEntry, 'dataJson' | 'hasRequestId'>, requestId: string): string {
  if (entry.hasRequestId) return entry.dataJson;
  const rest = entry.dataJson === '{}' ? '' : `,${entry.dataJson.slice(1, -1)}`;
  return `{"request_id":${JSON.stringify(requestId)}${rest}}`;
}
