import { describe, expect, it } from 'vitest';
import { ApiError } from '../http/errors';
import { conflictReasonOf, groupConflict } from './conflicts';

/** What Drizzle throws: its own error with the driver's as `cause`. */
const wrapped = (code: string, constraint?: string) =>
  Object.assign(new Error('Failed query: insert …'), {
    cause: Object.assign(new Error('duplicate key'), { code, constraint }),
  });

describe('conflictReasonOf', () => {
  it('reads a second group for one dongle from any of the one-group keys', () => {
    for (const key of [
      'dongle_group_members_pkey',
      'dongle_group_members_group_side_key',
      'dongle_groups_dongle_a_key',
      'dongle_groups_dongle_b_key',
    ]) {
      expect(conflictReasonOf(wrapped('23505', key))).toBe('in_another_group');
    }
  });

  it('reads a dongle that is not the owner’s, and one dongle twice', () => {
    expect(conflictReasonOf(wrapped('23503', 'dongle_group_members_dongle_owner_fk'))).toBe('not_owned');
    expect(conflictReasonOf(wrapped('23514', 'dongle_groups_distinct_check'))).toBe('same_dongle');
  });

  it('leaves every other error alone, so that it stays a 500', () => {
    expect(conflictReasonOf(wrapped('23505', 'users_email_key'))).toBeNull();
    expect(conflictReasonOf(wrapped('40P01'))).toBeNull();
    expect(conflictReasonOf(new Error('connection reset'))).toBeNull();
    expect(conflictReasonOf(new ApiError(409, 'GROUP_CONFLICT', 'x'))).toBeNull();
    expect(conflictReasonOf(undefined)).toBeNull();
  });
});

describe('groupConflict', () => {
  it('is a 409 GROUP_CONFLICT naming the reason and the dongle', () => {
    const err = groupConflict('not_active', { dongle_id: 'd1', ownership_state: 'SECURITY_HOLD' });
    expect(err).toMatchObject({
      status: 409,
      code: 'GROUP_CONFLICT',
      details: { reason: 'not_active', dongle_id: 'd1', ownership_state: 'SECURITY_HOLD' },
    });
  });
});
