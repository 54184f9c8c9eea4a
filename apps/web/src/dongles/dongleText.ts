import type { Dongle } from '@canopy/protocol';

/** "0011223344556677" as "0011 2233 4455 6677": easier to read out and to compare with a label. */
export function formatDeviceId(deviceId: string): string {
  return /^[0-9a-f]{16}$/i.test(deviceId) ? deviceId.replace(/(.{4})(?!$)/g, '$1 ') : deviceId;
}

export type Tone = 'accent' | 'muted' | 'waiting' | 'danger';

/** Whose the dongle is, in words and a badge colour; a hold or a reset matters more than the owner. */
export function ownership(dongle: Pick<Dongle, 'owned' | 'ownership_state'>): { label: string; tone: Tone } {
  if (dongle.ownership_state === 'SECURITY_HOLD') {
    return { label: 'Security hold — contact support', tone: 'danger' };
  }
  if (dongle.ownership_state === 'RESET_DETECTED') return { label: 'Reset detected', tone: 'waiting' };
  if (dongle.owned) return { label: 'Yours', tone: 'accent' };
  if (dongle.ownership_state === 'CLAIMED_ACTIVE') return { label: 'Another account’s', tone: 'muted' };
  return { label: 'Not claimed', tone: 'muted' };
}

/** The node that sees it best (the cloud lists that one first), and how many others see it too. */
export function seenBy(
  dongle: Pick<Dongle, 'seen_by'>,
): { name: string; agentId: string; more: number } | null {
  const [first, ...others] = dongle.seen_by;
  return first ? { name: first.agent_name, agentId: first.agent_id, more: others.length } : null;
}

/**
 * Oldest first, so a dongle found while the page is open is added at the end and no row moves when one
 * goes online or offline.
 */
export function sortDongles(dongles: readonly Dongle[]): Dongle[] {
  return [...dongles].sort(
    (a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.device_id.localeCompare(b.device_id),
  );
}
