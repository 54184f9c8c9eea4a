import type { AdminDongle, OwnershipState } from '@canopy/protocol';
import { formatDeviceId, type Tone } from '../dongles/dongleText';

/** The page's filter: every state, in the order an admin looks for them; `is` completes "No dongle …". */
export const STATE_FILTERS: readonly { state: OwnershipState | undefined; label: string; is: string }[] = [
  { state: undefined, label: 'All', is: 'has been reported to Canopy yet' },
  { state: 'SECURITY_HOLD', label: 'On security hold', is: 'is on security hold' },
  { state: 'RESET_DETECTED', label: 'Reset detected', is: 'has been reset' },
  { state: 'CLAIMED_ACTIVE', label: 'Claimed', is: 'is claimed' },
  { state: 'UNCLAIMED', label: 'Unclaimed', is: 'is unclaimed' },
];

/** What the list says when it is empty, for this filter and search. */
export function emptySentence(state: OwnershipState | undefined, query: string): string {
  const is = STATE_FILTERS.find((filter) => filter.state === state)?.is;
  if (!query) return `No dongle ${is}.`;
  return state ? `No dongle matching “${query}” ${is}.` : `No dongle matches “${query}”.`;
}

/**
 * The state as support sees it: unlike the owner's view ("Yours", "contact support") it names the state
 * itself. A hold is the one to notice.
 */
export function stateBadge(state: OwnershipState): { label: string; tone: Tone } {
  switch (state) {
    case 'SECURITY_HOLD':
      return { label: 'Security hold', tone: 'danger' };
    case 'RESET_DETECTED':
      return { label: 'Reset detected', tone: 'waiting' };
    case 'CLAIMED_ACTIVE':
      return { label: 'Claimed', tone: 'accent' };
    case 'UNCLAIMED':
      return { label: 'Unclaimed', tone: 'muted' };
  }
}

/**
 * The row's force-unpair button. On a held dongle nobody owns, clearing the hold (restoreAction) does the same,
 * so there is only that; a dongle nobody owns and nothing holds has nothing to undo.
 */
export function unpairAction(dongle: Pick<AdminDongle, 'ownership_state' | 'owner_user_id'>): string | null {
  if (dongle.owner_user_id === null) return null;
  return dongle.ownership_state === 'SECURITY_HOLD' ? 'Unpair and clear hold' : 'Force unpair';
}

/** The manual reset flow's button (POST …/clear-hold), only on a held dongle. */
export function restoreAction(dongle: Pick<AdminDongle, 'ownership_state' | 'owner_user_id'>): string | null {
  if (dongle.ownership_state !== 'SECURITY_HOLD') return null;
  return dongle.owner_user_id === null ? 'Clear hold' : 'Give back to owner';
}

/** What clearing the hold does, said before it is done. */
export function restoreConsequences(dongle: Pick<AdminDongle, 'owner_user_id' | 'owner_email'>): string {
  if (dongle.owner_user_id === null) return 'The hold ends. The dongle can be paired again.';
  return `The hold ends and ${dongle.owner_email ?? 'the owner'} has the dongle back as before, or is asked to pair it again if Canopy no longer has its token. Do this once you know the owner set off the hold.`;
}

/** What was done, for the notice after a hold was cleared. */
export function restoredSentence(dongle: Pick<AdminDongle, 'device_id'>, state: OwnershipState): string {
  const name = formatDeviceId(dongle.device_id);
  if (state === 'CLAIMED_ACTIVE') return `The hold on ${name} is cleared; its owner has it back.`;
  if (state === 'RESET_DETECTED') return `The hold on ${name} is cleared; its owner must pair it again.`;
  return `The hold on ${name} is cleared. It can be paired again.`;
}

/** What force-unpairing this dongle does, said before it is done. */
export function unpairConsequences(dongle: Pick<AdminDongle, 'ownership_state' | 'owner_user_id'>): string {
  const held = dongle.ownership_state === 'SECURITY_HOLD';
  const after = 'The dongle can be paired again.';
  if (dongle.owner_user_id === null) {
    return held ? `The hold is cleared. ${after}` : `Any pairing under way ends. ${after}`;
  }
  return held
    ? `The owner loses the dongle, Canopy forgets its token, and the hold is cleared. ${after}`
    : `The owner loses the dongle and Canopy forgets its token. ${after}`;
}

/** What was done, for the notice after it. */
export function unpairedSentence(dongle: Pick<AdminDongle, 'device_id' | 'ownership_state'>): string {
  const name = formatDeviceId(dongle.device_id);
  return dongle.ownership_state === 'SECURITY_HOLD'
    ? `The hold on ${name} is cleared. It can be paired again.`
    : `${name} is unpaired. It can be paired again.`;
}

/** The row as the server has it after a force-unpair (which answers 204, without the row). */
export function afterForceUnpair(dongle: AdminDongle, at: Date): AdminDongle {
  return {
    ...dongle,
    ownership_state: 'UNCLAIMED',
    owner_user_id: null,
    owner_email: null,
    updated_at: at.toISOString(),
  };
}

/**
 * The search as the server matches it: a device id copied as shown ("0011 2233 …") loses its spaces;
 * anything else (an email, part of one) is only trimmed.
 */
export function searchTerm(typed: string): string {
  const trimmed = typed.trim();
  return /^[0-9a-f]{1,4}(?: [0-9a-f]{1,4})+$/i.test(trimmed)
    ? trimmed.replace(/ /g, '').toLowerCase()
    : trimmed;
}
