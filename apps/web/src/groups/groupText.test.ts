import type { Dongle, Group, GroupSide } from '@canopy/protocol';
import { describe, expect, it } from 'vitest';
import { codeSentence } from '../api/messages';
import {
  bufferSummary,
  draftProblems,
  eligibleDongles,
  formatFrames,
  modeBadge,
  offlineText,
} from './groupText';

const side = (dongle_id: string, online: boolean): GroupSide => ({
  dongle_id,
  device_id: '0011223344556677',
  online,
  agent_id: null,
});

const group = (a: GroupSide, b: GroupSide): Group => ({
  id: 'g1',
  name: 'Bench',
  mode: 'active',
  a,
  b,
  buffer: { a_to_b: 0, b_to_a: 0, pressure: false },
  created_at: '2030-01-01T10:00:00.000Z',
  updated_at: '2030-01-01T10:00:00.000Z',
});

const dongle = (id: string, more: Partial<Dongle> = {}): Dongle => ({
  id,
  device_id: '0011223344556677',
  owned: true,
  ownership_state: 'CLAIMED_ACTIVE',
  fw_build: null,
  online: true,
  pairing_state: 'normal',
  lan_ip: null,
  last_seen_at: null,
  seen_by: [],
  created_at: '2030-01-01T10:00:00.000Z',
  ...more,
});

describe('modeBadge', () => {
  it('names each mode with its own colour', () => {
    expect(modeBadge('inactive')).toEqual({ label: 'Inactive', tone: 'muted' });
    expect(modeBadge('active')).toEqual({ label: 'Active', tone: 'accent' });
    expect(modeBadge('degraded')).toEqual({ label: 'Degraded', tone: 'waiting' });
  });
});

describe('offlineText', () => {
  it('says which side is offline, or that both are', () => {
    expect(offlineText(group(side('x', true), side('y', false)))).toBe('Side B offline');
    expect(offlineText(group(side('x', false), side('y', true)))).toBe('Side A offline');
    expect(offlineText(group(side('x', false), side('y', false)))).toBe('Both sides offline');
  });

  it('is null when both sides are online', () => {
    expect(offlineText(group(side('x', true), side('y', true)))).toBeNull();
  });
});

describe('eligibleDongles', () => {
  it('offers only the user’s paired, working dongles that are in no group', () => {
    const grouped = group(side('in-a', true), side('in-b', true));
    const list = [
      dongle('free'),
      dongle('in-a'),
      dongle('in-b'),
      dongle('not-mine', { owned: false }),
      dongle('held', { ownership_state: 'SECURITY_HOLD' }),
      dongle('reset', { ownership_state: 'RESET_DETECTED' }),
      dongle('offline', { online: false }),
    ];
    expect(eligibleDongles(list, [grouped]).map((d) => d.id)).toEqual(['free', 'offline']);
  });
});

describe('draftProblems', () => {
  it('asks for a name and both sides', () => {
    expect(draftProblems({ name: '  ', dongleA: '', dongleB: '' })).toEqual({
      name: 'Enter a name for the group.',
      dongle_a_id: 'Choose the dongle for side A.',
      dongle_b_id: 'Choose the dongle for side B.',
    });
  });

  it('refuses one dongle on both sides, in the words the server’s refusal maps to', () => {
    const problems = draftProblems({ name: 'Bench', dongleA: 'x', dongleB: 'x' });
    expect(problems).toEqual({ dongle_b_id: codeSentence('GROUP_CONFLICT', { reason: 'same_dongle' }) });
  });

  it('finds nothing wrong with a complete draft', () => {
    expect(draftProblems({ name: 'Bench', dongleA: 'x', dongleB: 'y' })).toEqual({});
  });
});

describe('GROUP_CONFLICT sentences', () => {
  it('explain each broken rule in plain words', () => {
    expect(codeSentence('GROUP_CONFLICT', { reason: 'in_another_group' })).toMatch(
      /already in another group/,
    );
    expect(codeSentence('GROUP_CONFLICT', { reason: 'not_owned' })).toMatch(/paired with your account/);
    expect(codeSentence('GROUP_CONFLICT', { reason: 'not_active' })).toMatch(/security hold/);
    expect(codeSentence('GROUP_CONFLICT', {})).toMatch(/conflicts with the group/);
    expect(codeSentence('GROUP_NOT_FOUND')).toMatch(/couldn't find that group/);
  });
});

describe('buffer text', () => {
  it('counts frames in words', () => {
    expect(formatFrames(0)).toBe('none');
    expect(formatFrames(1)).toBe('1 frame');
    expect(formatFrames(12034)).toBe('12,034 frames');
  });

  it('sums up both directions, or says the buffer is empty', () => {
    expect(bufferSummary({ a_to_b: 0, b_to_a: 0, pressure: false })).toBe('Empty');
    expect(bufferSummary({ a_to_b: 12034, b_to_a: 0, pressure: true })).toBe(
      'A → B 12,034 frames · B → A none',
    );
  });
});
