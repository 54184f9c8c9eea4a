import type { Dongle } from '@canopy/protocol';
import { ownership } from './dongleText';

/** May wrap: "Security hold — contact support" is long for a table column. */
export function OwnershipBadge({ dongle }: { dongle: Dongle }) {
  const { label, tone } = ownership(dongle);
  return <span className={`badge badge-${tone} badge-wrap`}>{label}</span>;
}
