import type { GroupMode } from '@canopy/protocol';
import { modeBadge } from './groupText';

export function ModeBadge({ mode }: { mode: GroupMode }) {
  const { label, tone } = modeBadge(mode);
  return <span className={`badge badge-${tone}`}>{label}</span>;
}
