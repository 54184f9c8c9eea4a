import { type ConsoleEvent, ConsoleEventSchemas, type ConsoleEventType } from '@canopy/protocol';

/** The SSE event types the console listens for. */
export const EVENT_TYPES = Object.keys(ConsoleEventSchemas) as ConsoleEventType[];

/**
 * One SSE message as a console event, checked against the protocol's schema; null when the type is unknown,
 * the data is not JSON or does not match (the console counts those and carries on).
 */
export function parseConsoleEvent(type: string, data: string): ConsoleEvent | null {
  if (!Object.hasOwn(ConsoleEventSchemas, type)) return null;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return null;
  }
  const parsed = ConsoleEventSchemas[type as ConsoleEventType].safeParse(json);
  return parsed.success ? ({ type, data: parsed.data } as ConsoleEvent) : null;
}
