import type { PairingState } from '@canopy/protocol';

/** Shown beside the status while the dongle is in pairing mode; nothing otherwise. */
export function PairingBadge({ state }: { state: PairingState }) {
  if (state !== 'pairing') return null;
  return <span className="badge badge-waiting">Pairing mode</span>;
}
