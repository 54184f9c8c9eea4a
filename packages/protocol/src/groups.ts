import { z } from 'zod';
import { DeviceId } from './dongles';

/*
 * Dongle groups (spec 002 §13, §17.3, §21.7): two dongles of one owner whose CAN buses the cloud relays to
 * each other. `inactive` relays nothing; `active` relays; `degraded` is active with a side offline, its frames
 * buffered until it is back.
 */

export const GroupMode = z.enum(['inactive', 'active', 'degraded']);
export type GroupMode = z.infer<typeof GroupMode>;

export const GroupSideName = z.enum(['a', 'b']);
export type GroupSideName = z.infer<typeof GroupSideName>;

/** One side of a group: its dongle, and the node of the owner that hears it now (null when none does). */
export const GroupSide = z.object({
  dongle_id: z.uuid(),
  device_id: DeviceId,
  online: z.boolean(),
  agent_id: z.uuid().nullable(),
});
export type GroupSide = z.infer<typeof GroupSide>;

/** Frames the relay holds for a side that is offline or catching up; `pressure` warns before any trim. */
export const GroupBuffer = z.object({
  a_to_b: z.number().int().nonnegative(),
  b_to_a: z.number().int().nonnegative(),
  pressure: z.boolean(),
});
export type GroupBuffer = z.infer<typeof GroupBuffer>;

export const GroupName = z
  .string()
  .trim()
  .min(1, { message: 'must not be empty' })
  .max(80, { message: 'must be at most 80 characters' });

export const Group = z.object({
  id: z.uuid(),
  name: z.string(),
  mode: GroupMode,
  a: GroupSide,
  b: GroupSide,
  buffer: GroupBuffer,
  created_at: z.string(),
  updated_at: z.string(),
});
export type Group = z.infer<typeof Group>;

/** POST /api/v1/groups: two distinct dongles of the caller, both paired (CLAIMED_ACTIVE), neither in a group. */
export const CreateGroupRequest = z.object({
  name: GroupName,
  dongle_a_id: z.uuid({ message: 'must be a dongle id (UUID)' }),
  dongle_b_id: z.uuid({ message: 'must be a dongle id (UUID)' }),
});
export type CreateGroupRequest = z.infer<typeof CreateGroupRequest>;

/** The spec's `{group_id, status}`, and the whole group. */
export const CreateGroupResponse = z.object({ group_id: z.uuid(), status: GroupMode, group: Group });
export type CreateGroupResponse = z.infer<typeof CreateGroupResponse>;

export const GroupsResponse = z.object({ groups: z.array(Group) });
export type GroupsResponse = z.infer<typeof GroupsResponse>;

export const GroupResponse = z.object({ group: Group });
export type GroupResponse = z.infer<typeof GroupResponse>;

/** `details.reason` of a 409 GROUP_CONFLICT (with `details.dongle_id` when one dongle is the cause). */
export const GroupConflictReason = z.enum(['same_dongle', 'not_owned', 'not_active', 'in_another_group']);
export type GroupConflictReason = z.infer<typeof GroupConflictReason>;

/** The engine channel a change of any group is announced on (the relay listens), with this message. */
export const GROUPS_CHANGED_CHANNEL = 'groups:changed';
export const GroupsChanged = z.object({ group_id: z.uuid() });
export type GroupsChanged = z.infer<typeof GroupsChanged>;

/** A frame typed in the group console: `id` as a number or hex ("0x7DF"), `data` hex, 0–8 bytes. */
export const ConsoleFrame = z
  .object({
    id: z.union([
      z.number().int().min(0).max(0x1fffffff),
      z.string().regex(/^(0x)?[0-9a-fA-F]{1,8}$/, { message: 'must be a CAN id in hex, e.g. 0x7DF' }),
    ]),
    data: z
      .string()
      .regex(/^([0-9a-fA-F]{2}){0,8}$/, { message: 'must be 0 to 8 bytes in hex, e.g. 02010C' })
      .default(''),
    /** 29-bit; by default an id above 0x7FF is extended. */
    extended: z.boolean().optional(),
  })
  .transform((f, ctx) => {
    const id = typeof f.id === 'number' ? f.id : Number.parseInt(f.id.replace(/^0x/i, ''), 16);
    const extended = f.extended ?? id > 0x7ff;
    if (id > (extended ? 0x1fffffff : 0x7ff)) {
      ctx.addIssue({
        code: 'custom',
        path: ['id'],
        message: extended ? 'is above 0x1FFFFFFF' : 'is above 0x7FF',
      });
    }
    return { id, extended, data: f.data };
  });

/** POST /api/v1/groups/:id/frames: frames onto one side's bus, as if the other side's dongle had read them. */
export const SendFramesRequest = z.object({
  to: GroupSideName,
  frames: z.array(ConsoleFrame).min(1).max(100),
});
export type SendFramesRequest = z.infer<typeof SendFramesRequest>;
export const SendFramesResponse = z.object({ queued: z.number().int() });
export type SendFramesResponse = z.infer<typeof SendFramesResponse>;
