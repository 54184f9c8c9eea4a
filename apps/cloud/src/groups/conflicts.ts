import type { GroupConflictReason } from '@canopy/protocol';
import {
  CHECK_VIOLATION,
  FOREIGN_KEY_VIOLATION,
  type PgError,
  pgErrorOf,
  UNIQUE_VIOLATION,
} from '../db/pg-errors';
import { ApiError } from '../http/errors';

const SENTENCES: Record<GroupConflictReason, string> = {
  same_dongle: 'A group needs two different dongles',
  not_owned: 'Both dongles of a group must be paired with your account',
  not_active: 'Both dongles of a group must be paired and working (not on hold, not reset)',
  in_another_group: 'A dongle can be in one group only',
};

/** 409 GROUP_CONFLICT with `details.reason` (and `details.dongle_id` when one dongle is the cause). */
export function groupConflict(
  reason: GroupConflictReason,
  more: { dongle_id?: string; ownership_state?: string } = {},
): ApiError {
  return new ApiError(409, 'GROUP_CONFLICT', SENTENCES[reason], { reason, ...more });
}

/**
 * The group rule a database error says was broken, when a concurrent change got past the service's own
 * checks (two creates racing for one dongle, an unpair between the check and the insert); null for anything
 * else, which stays a 500.
 */
export function conflictReasonOf(err: unknown): GroupConflictReason | null {
  const pg = pgErrorOf(err);
  return pg ? reasonOf(pg) : null;
}

/** Unique keys that say "this dongle is in a group already". */
const ONE_GROUP_KEYS = new Set([
  'dongle_group_members_pkey',
  'dongle_group_members_group_side_key',
  'dongle_groups_dongle_a_key',
  'dongle_groups_dongle_b_key',
]);

function reasonOf({ code, constraint = '' }: PgError): GroupConflictReason | null {
  if (code === UNIQUE_VIOLATION && ONE_GROUP_KEYS.has(constraint)) return 'in_another_group';
  if (code === FOREIGN_KEY_VIOLATION && constraint === 'dongle_group_members_dongle_owner_fk')
    return 'not_owned';
  if (code === CHECK_VIOLATION && constraint === 'dongle_groups_distinct_check') return 'same_dongle';
  return null;
}
