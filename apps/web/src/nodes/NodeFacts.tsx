import type { AgentSummary } from '@canopy/protocol';
import type { ReactNode } from 'react';
import { formatDateTime } from '../ui/format';
import { useNow } from '../ui/useNow';
import { connectionText, lastSeenText, serviceText, uptimeText } from './presence';

/** What the cloud knows about a node (its status is in the header), with "last seen" counting up every second. */
export function NodeFacts({ agent }: { agent: AgentSummary }) {
  const now = useNow();
  const facts: [string, ReactNode][] = [
    ['Hostname', agent.hostname],
    ['OS', agent.os],
    ['Version', agent.version],
    ['Connection', connectionText(agent) ?? '—'],
    ['Runs as', serviceText(agent) ?? 'In a terminal or by hand (canopy-node install makes it a service)'],
    [
      'Last seen',
      agent.last_seen_at ? (
        <time key="seen" dateTime={agent.last_seen_at} title={formatDateTime(agent.last_seen_at)}>
          {lastSeenText(agent, now)}
        </time>
      ) : (
        'Never'
      ),
    ],
    ['Uptime', uptimeText(agent) ?? '—'],
    ['Added', formatDateTime(agent.created_at)],
  ];
  return (
    <dl className="card facts">
      {facts.map(([term, value]) => (
        <div key={term} className="fact">
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
