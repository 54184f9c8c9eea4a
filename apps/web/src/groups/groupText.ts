import type { Dongle, Group, GroupBuffer, GroupMode } from '@canopy/protocol';
import { SITUATIONS } from '../api/messages';
import type { Tone } from '../dongles/dongleText';

export const SIDE_LABELS = { a: 'A', b: 'B' } as const;

const MODES: Record<GroupMode, { label: string; tone: Tone }> = {
  inactive: { label: 'Inactive', tone: 'muted' },
  active: { label: 'Active', tone: 'accent' },
  degraded: { label: 'Degraded', tone: 'waiting' },
};

/** The mode as a badge: Inactive (no bridging), Active, Degraded (bridging with a side offline, buffering). */
export function modeBadge(mode: GroupMode): { label: string; tone: Tone } {
  return MODES[mode];
}

/** Which side is offline, in words ("Side B offline"), or null when both are online. */
export function offlineText(group: Pick<Group, 'a' | 'b'>): string | null {
  const offline = (['a', 'b'] as const).filter((side) => !group[side].online);
  if (offline.length === 2) return 'Both sides offline';
  const [side] = offline;
  return side ? `Side ${SIDE_LABELS[side]} offline` : null;
}

/** The dongles a new group may use: the user's own, paired and working, and in no group yet. */
export function eligibleDongles(dongles: readonly Dongle[], groups: readonly Group[]): Dongle[] {
  const taken = new Set(groups.flatMap((group) => [group.a.dongle_id, group.b.dongle_id]));
  return dongles.filter(
    (dongle) => dongle.owned && dongle.ownership_state === 'CLAIMED_ACTIVE' && !taken.has(dongle.id),
  );
}

export type GroupDraft = { name: string; dongleA: string; dongleB: string };

/** What the New group form can tell before asking: a missing name or side, or one dongle twice. */
export function draftProblems(
  draft: GroupDraft,
): Partial<Record<'name' | 'dongle_a_id' | 'dongle_b_id', string>> {
  const problems: Partial<Record<'name' | 'dongle_a_id' | 'dongle_b_id', string>> = {};
  if (!draft.name.trim()) problems.name = SITUATIONS.groupNameMissing;
  if (!draft.dongleA) problems.dongle_a_id = SITUATIONS.groupSideMissing('A');
  if (!draft.dongleB) problems.dongle_b_id = SITUATIONS.groupSideMissing('B');
  else if (draft.dongleA === draft.dongleB) problems.dongle_b_id = SITUATIONS.groupSameDongle;
  return problems;
}

const count = new Intl.NumberFormat('en-US');

/** "12,034 frames", "1 frame", "none". */
export function formatFrames(n: number): string {
  if (n === 0) return 'none';
  return `${count.format(n)} ${n === 1 ? 'frame' : 'frames'}`;
}

/** The buffer in one line for the list: "A → B 12,034 frames · B → A none", or "Empty". */
export function bufferSummary(buffer: GroupBuffer): string {
  if (buffer.a_to_b === 0 && buffer.b_to_a === 0) return 'Empty';
  return `A → B ${formatFrames(buffer.a_to_b)} · B → A ${formatFrames(buffer.b_to_a)}`;
}
