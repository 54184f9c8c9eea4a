import { z } from 'zod';
import { CommandStatus } from './dongles';
import { GroupMode, GroupSideName } from './groups';

/*
 * The live console over SSE (spec 002 §15, §18): GET /api/v1/streams/{dongles,groups}/:id/console. Every
 * message is `id: <stream id>`, `event: <type>`, `data: <json>`; the data of every type may carry the
 * `request_id` of the API request that caused it (or of the SSE request itself, spec 002 §23.6).
 */

const RequestId = z.string().max(128).optional();
const Timestamp = z.iso.datetime({ offset: true });

/** A dongle came online, went offline, or is now heard through another node. */
export const PresenceEvent = z.object({
  dongle_id: z.uuid(),
  online: z.boolean(),
  /** The owner's node that hears it now (null when none does). */
  agent_id: z.uuid().nullable(),
  /** When it was last heard (null if never). */
  seen_at: Timestamp.nullable(),
  request_id: RequestId,
});
export type PresenceEvent = z.infer<typeof PresenceEvent>;

/** One CAN frame a dongle received from its bus (rx) or put on it (tx). The console may sample these. */
export const CanFrameEvent = z.object({
  ts: Timestamp,
  direction: z.enum(['rx', 'tx']),
  dongle_id: z.uuid(),
  group_id: z.uuid().optional(),
  /** "0x7E8": the 11- or 29-bit identifier in uppercase hex. */
  id: z.string().regex(/^0x[0-9A-F]{1,8}$/, { message: 'must be 0x and uppercase hex' }),
  is_extended: z.boolean(),
  dlc: z.number().int().min(0).max(15),
  /** The payload as uppercase hex, two characters a byte, no separators ("0210030000000000"). */
  data: z.string().regex(/^(?:[0-9A-F]{2}){0,64}$/, { message: 'must be uppercase hex bytes' }),
  /** The relay's sequence number of the frame in its direction, when it went through a group. */
  seq: z.number().int().nonnegative().optional(),
  request_id: RequestId,
});
export type CanFrameEvent = z.infer<typeof CanFrameEvent>;

/** Something to tell the person watching: errors, warnings, and the console's own notices (sampling). */
export const LogEvent = z.object({
  ts: Timestamp,
  level: z.enum(['debug', 'info', 'warn', 'error']),
  /** What kind of notice, for the UI to key on (e.g. console_sampling). */
  code: z.string().max(64).optional(),
  message: z.string().max(2000),
  details: z.record(z.string(), z.unknown()).optional(),
  request_id: RequestId,
});
export type LogEvent = z.infer<typeof LogEvent>;

/** A command of the command console changed status (queued → running → done | error | timeout). */
export const CommandStatusEvent = z.object({
  command_id: z.uuid(),
  dongle_id: z.uuid(),
  command: z.string(),
  status: CommandStatus,
  exit_code: z.number().int().nullable().optional(),
  error: z.string().nullable().optional(),
  at: Timestamp,
  request_id: RequestId,
});
export type CommandStatusEvent = z.infer<typeof CommandStatusEvent>;

/** A group's mode and buffer (spec 002 §13.3): which side is offline, how many frames wait each way. */
export const GroupStateEvent = z.object({
  group_id: z.uuid(),
  mode: GroupMode,
  /** The first offline side (kept for older clients); `offline_sides` names every one. */
  offline_side: GroupSideName.nullable(),
  offline_sides: z.array(GroupSideName).max(2).optional(),
  buffered_frames_a_to_b: z.number().int().nonnegative(),
  buffered_frames_b_to_a: z.number().int().nonnegative(),
  pressure: z.boolean().optional(),
  request_id: RequestId,
});
export type GroupStateEvent = z.infer<typeof GroupStateEvent>;

/**
 * The Last-Event-ID the client resumed from is no longer in the stream (too old: trimmed away; unknown: not
 * an id of this stream): events were missed, the client should reload its state; live events follow.
 */
export const StreamResetEvent = z.object({
  reason: z.enum(['too_old', 'unknown_id']),
  message: z.string(),
  last_event_id: z.string(),
  /** The oldest and newest ids the stream holds now. */
  oldest_id: z.string().nullable(),
  newest_id: z.string().nullable(),
  request_id: RequestId,
});
export type StreamResetEvent = z.infer<typeof StreamResetEvent>;

export const ConsoleEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('presence'), data: PresenceEvent }),
  z.object({ type: z.literal('can_frame'), data: CanFrameEvent }),
  z.object({ type: z.literal('log'), data: LogEvent }),
  z.object({ type: z.literal('command_status'), data: CommandStatusEvent }),
  z.object({ type: z.literal('group_state'), data: GroupStateEvent }),
  z.object({ type: z.literal('stream_reset'), data: StreamResetEvent }),
]);
export type ConsoleEvent = z.infer<typeof ConsoleEvent>;
export type ConsoleEventType = ConsoleEvent['type'];
/** The data of one event type. */
export type ConsoleEventData<T extends ConsoleEventType> = Extract<ConsoleEvent, { type: T }>['data'];

/** The data schema of each event type. */
export const ConsoleEventSchemas = {
  presence: PresenceEvent,
  can_frame: CanFrameEvent,
  log: LogEvent,
  command_status: CommandStatusEvent,
  group_state: GroupStateEvent,
  stream_reset: StreamResetEvent,
} as const satisfies Record<ConsoleEventType, z.ZodType>;
