import type { AgentSummary } from '@canopy/protocol';
import { serviceText } from './presence';

/** A badge for a node that a service manager runs; its title says which. */
export function AlwaysOn({ agent }: { agent: AgentSummary }) {
  const text = serviceText(agent);
  if (!text) return null;
  return (
    <span className="badge badge-accent" title={text}>
      Always on
    </span>
  );
}
