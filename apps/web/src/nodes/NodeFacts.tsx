import type { AgentSummary } from '@canopy/protocol';
import { Facts } from '../ui/Facts';
import { formatDateTime } from '../ui/format';
import { LastSeen } from '../ui/LastSeen';
import { useNow } from '../ui/useNow';
import { connectionText, serviceText, uptimeText } from './presence';

/** What the cloud knows about a node (its status is in the header), with "last seen" counting up every second. */
export function NodeFacts({ agent }: { agent: AgentSummary }) {
  const now = useNow();
  return (
    <Facts
      facts={[
        ['Hostname', agent.hostname],
        ['OS', agent.os],
        ['Version', agent.version],
        ['Connection', connectionText(agent) ?? '—'],
        [
          'Runs as',
          serviceText(agent) ?? 'In a terminal or by hand (canopy-node install makes it a service)',
        ],
        ['Last seen', <LastSeen key="seen" iso={agent.last_seen_at} now={now} />],
        ['Uptime', uptimeText(agent) ?? '—'],
        ['Added', formatDateTime(agent.created_at)],
      ]}
    />
  );
}
