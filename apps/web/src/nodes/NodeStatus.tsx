import type { AgentSummary } from '@canopy/protocol';
import { serviceText } from './presence';

/**
 * Online or offline, in words as well as colour. The dot is drawn in CSS rather than as 🟢/🔴, which
 * show as empty boxes on systems without an emoji font.
 */
export function NodeStatus({ online }: { online: boolean }) {
  return (
    <span className={online ? 'status status-online' : 'status status-offline'}>
      <span className="status-dot" aria-hidden="true" />
      {online ? 'Online' : 'Offline'}
    </span>
  );
}

/** A badge for a node that a service manager runs; its title says which. */
export function AlwaysOn({ agent }: { agent: AgentSummary }) {
  const text = serviceText(agent);
  if (!text) return null;
  return (
    <span className="badge badge-accent always-on" title={text}>
      Always on
    </span>
  );
}
