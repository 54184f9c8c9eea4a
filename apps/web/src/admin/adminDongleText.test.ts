import type { AdminDongle } from '@canopy/protocol';
import { describe, expect, it } from 'vitest';
import {
  afterForceUnpair,
  emptySentence,
  restoreAction,
  restoreConsequences,
  restoredSentence,
  STATE_FILTERS,
  searchTerm,
  stateBadge,
  unpairAction,
  unpairConsequences,
  unpairedSentence,
} from './adminDongleText';

const OWNER = '00000000-0000-4000-8000-000000000001';

const dongle = (patch: Partial<AdminDongle> = {}): AdminDongle => ({
  id: '00000000-0000-4000-8000-0000000000aa',
  device_id: '0011223344556677',
  ownership_state: 'CLAIMED_ACTIVE',
  owner_user_id: OWNER,
  owner_email: 'owner@example.com',
  fw_build: 'v1.2.3',
  last_seen_at: '2030-01-01T12:00:00.000Z',
  updated_at: '2030-01-01T12:00:00.000Z',
  ...patch,
});

describe('STATE_FILTERS', () => {
  it('offers All first, then every ownership state once, the hold before the others', () => {
    expect(STATE_FILTERS.map((filter) => filter.label)).toEqual([
      'All',
      'On security hold',
      'Reset detected',
      'Claimed',
      'Unclaimed',
    ]);
    expect(STATE_FILTERS.map((filter) => filter.state)).toEqual([
      undefined,
      'SECURITY_HOLD',
      'RESET_DETECTED',
      'CLAIMED_ACTIVE',
      'UNCLAIMED',
    ]);
  });
});

describe('emptySentence', () => {
  it('says which kind of dongle there is none of', () => {
    expect(emptySentence('SECURITY_HOLD', '')).toBe('No dongle is on security hold.');
    expect(emptySentence('RESET_DETECTED', '')).toBe('No dongle has been reset.');
    expect(emptySentence('CLAIMED_ACTIVE', '')).toBe('No dongle is claimed.');
    expect(emptySentence('UNCLAIMED', '')).toBe('No dongle is unclaimed.');
    expect(emptySentence(undefined, '')).toBe('No dongle has been reported to Canopy yet.');
  });

  it('names the search when one is typed, with the filter if there is one', () => {
    expect(emptySentence(undefined, 'bob@')).toBe('No dongle matches “bob@”.');
    expect(emptySentence('SECURITY_HOLD', 'bob@')).toBe('No dongle matching “bob@” is on security hold.');
  });
});

describe('stateBadge', () => {
  it('names the state itself, not the owner’s view of it, with a hold in the danger colour', () => {
    expect(stateBadge('SECURITY_HOLD')).toEqual({ label: 'Security hold', tone: 'danger' });
    expect(stateBadge('RESET_DETECTED')).toEqual({ label: 'Reset detected', tone: 'waiting' });
    expect(stateBadge('CLAIMED_ACTIVE')).toEqual({ label: 'Claimed', tone: 'accent' });
    expect(stateBadge('UNCLAIMED')).toEqual({ label: 'Unclaimed', tone: 'muted' });
  });
});

describe('unpairAction', () => {
  it('offers "Unpair and clear hold" on an owned dongle on hold, nothing on an unowned one', () => {
    expect(unpairAction(dongle({ ownership_state: 'SECURITY_HOLD' }))).toBe('Unpair and clear hold');
    expect(unpairAction(dongle({ ownership_state: 'SECURITY_HOLD', owner_user_id: null }))).toBeNull();
  });

  it('offers "Force unpair" for an owned dongle, also one that was reset', () => {
    expect(unpairAction(dongle())).toBe('Force unpair');
    expect(unpairAction(dongle({ ownership_state: 'RESET_DETECTED' }))).toBe('Force unpair');
  });

  it('offers nothing for an unclaimed dongle without an owner', () => {
    expect(unpairAction(dongle({ ownership_state: 'UNCLAIMED', owner_user_id: null }))).toBeNull();
  });
});

describe('restoreAction and what it says', () => {
  it('gives a held dongle back to its owner, or just clears the hold of an unowned one', () => {
    expect(restoreAction(dongle({ ownership_state: 'SECURITY_HOLD' }))).toBe('Give back to owner');
    expect(restoreAction(dongle({ ownership_state: 'SECURITY_HOLD', owner_user_id: null }))).toBe(
      'Clear hold',
    );
    expect(restoreAction(dongle())).toBeNull();
    expect(restoreAction(dongle({ ownership_state: 'RESET_DETECTED' }))).toBeNull();
  });

  it('says what happens before, and what happened after', () => {
    expect(restoreConsequences(dongle({ owner_user_id: null, owner_email: null }))).toBe(
      'The hold ends. The dongle can be paired again.',
    );
    expect(restoreConsequences(dongle({ owner_email: 'alice@example.com' }))).toMatch(
      /^The hold ends and alice@example.com has the dongle back as before/,
    );
    expect(restoredSentence(dongle(), 'CLAIMED_ACTIVE')).toBe(
      'The hold on 0011 2233 4455 6677 is cleared; its owner has it back.',
    );
    expect(restoredSentence(dongle(), 'RESET_DETECTED')).toBe(
      'The hold on 0011 2233 4455 6677 is cleared; its owner must pair it again.',
    );
    expect(restoredSentence(dongle(), 'UNCLAIMED')).toBe(
      'The hold on 0011 2233 4455 6677 is cleared. It can be paired again.',
    );
  });
});

describe('unpairConsequences', () => {
  it('says the owner loses the dongle, the token is forgotten and the hold cleared', () => {
    expect(unpairConsequences(dongle({ ownership_state: 'SECURITY_HOLD' }))).toBe(
      'The owner loses the dongle, Canopy forgets its token, and the hold is cleared. The dongle can be paired again.',
    );
    expect(unpairConsequences(dongle())).toBe(
      'The owner loses the dongle and Canopy forgets its token. The dongle can be paired again.',
    );
  });

  it('speaks of no owner when the dongle has none', () => {
    expect(unpairConsequences(dongle({ ownership_state: 'SECURITY_HOLD', owner_user_id: null }))).toBe(
      'The hold is cleared. The dongle can be paired again.',
    );
  });
});

describe('unpairedSentence', () => {
  it('names the dongle as the page shows it, and the hold when there was one', () => {
    expect(unpairedSentence(dongle())).toBe('0011 2233 4455 6677 is unpaired. It can be paired again.');
    expect(unpairedSentence(dongle({ ownership_state: 'SECURITY_HOLD' }))).toBe(
      'The hold on 0011 2233 4455 6677 is cleared. It can be paired again.',
    );
  });
});

describe('afterForceUnpair', () => {
  it('leaves the row unclaimed and ownerless, changed at the given time, and its input alone', () => {
    const before = dongle({ ownership_state: 'SECURITY_HOLD' });
    const after = afterForceUnpair(before, new Date('2030-01-02T00:00:00.000Z'));
    expect(after).toEqual({
      ...before,
      ownership_state: 'UNCLAIMED',
      owner_user_id: null,
      owner_email: null,
      updated_at: '2030-01-02T00:00:00.000Z',
    });
    expect(before.ownership_state).toBe('SECURITY_HOLD');
  });
});

describe('searchTerm', () => {
  it('takes the spaces out of a device id copied as the page shows it', () => {
    expect(searchTerm(' 0011 2233 4455 6677 ')).toBe('0011223344556677');
    expect(searchTerm('AB12 CD')).toBe('ab12cd');
  });

  it('only trims anything else, such as an email address', () => {
    expect(searchTerm('  owner@example.com ')).toBe('owner@example.com');
    expect(searchTerm('bob smith')).toBe('bob smith');
    expect(searchTerm('0011223344556677')).toBe('0011223344556677');
    expect(searchTerm('')).toBe('');
  });
});
