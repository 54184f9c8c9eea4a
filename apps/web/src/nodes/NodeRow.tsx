import type { AgentSummary } from '@canopy/protocol';
import { Link } from 'react-router';
import { LastSeen } from '../ui/LastSeen';
import { OnlineStatus } from '../ui/OnlineStatus';
import { AlwaysOn } from './AlwaysOn';
import { connectionText, uptimeText } from './presence';

const none = <span className="muted">—</span>;

interface NodeRowProps {
  agent: AgentSummary;
  now: number;
  onRemove: () => void;
}

export function NodeRow({ agent, now, onRemove }: NodeRowProps) {
  return (
    <tr>
      <td className="cell-nowrap">
        <OnlineStatus online={agent.online} />
        <AlwaysOn agent={agent} />
      </td>
      <td className="cell-strong cell-name">
        <Link to={`/nodes/${agent.id}`}>{agent.name}</Link>
        {agent.hostname !== agent.name && <span className="cell-sub">{agent.hostname}</span>}
      </td>
      <td className="cell-name">{agent.os}</td>
      <td className="cell-nowrap">{agent.version}</td>
      <td className="cell-nowrap">{connectionText(agent) ?? none}</td>
      <td className="cell-nowrap">
        <LastSeen iso={agent.last_seen_at} now={now} />
      </td>
      <td className="cell-nowrap">{uptimeText(agent) ?? none}</td>
      <td className="cell-actions">
        <button type="button" className="button button-danger-outline button-small" onClick={onRemove}>
          Remove
        </button>
      </td>
    </tr>
  );
}
