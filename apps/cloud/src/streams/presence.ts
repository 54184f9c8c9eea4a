import type { Dongle, PresenceEvent } from '@canopy/protocol';

/** A dongle's presence as its owner's Dongles page shows it: online, and the node that hears it now. */
export function presenceOf(d: Dongle): Omit<PresenceEvent, 'request_id'> {
  return {
    dongle_id: d.id,
    online: d.online,
    agent_id: d.online ? (d.seen_by.find((s) => s.online)?.agent_id ?? null) : null,
    seen_at: d.last_seen_at,
  };
}

/** Whether the console should hear of a change: online/offline, or another node. */
export function presenceChanged(
  before: Pick<PresenceEvent, 'online' | 'agent_id'> | undefined,
  after: Pick<PresenceEvent, 'online' | 'agent_id'>,
): boolean {
  const was = before ?? { online: false, agent_id: null };
  return was.online !== after.online || was.agent_id !== after.agent_id;
}
