import type { AgentSummary, Group } from '@canopy/protocol';
import { Link } from 'react-router';
import { formatDeviceId } from '../dongles/dongleText';
import { OnlineStatus } from '../ui/OnlineStatus';
import { SIDE_LABELS } from './groupText';

interface GroupSidesProps {
  group: Group;
  /** The user's nodes, to name the one that hears each side; null until loaded. */
  nodes: AgentSummary[] | null;
}

/** Both sides: which dongle, whether it is online, and the node it is heard through. */
export function GroupSides({ group, nodes }: GroupSidesProps) {
  return (
    <section className="section" aria-labelledby="group-sides">
      <h2 id="group-sides">Sides</h2>
      <div className="card table-card">
        <table className="table">
          <caption className="visually-hidden">The two sides of the group</caption>
          <thead>
            <tr>
              <th scope="col">Side</th>
              <th scope="col">Dongle</th>
              <th scope="col">Status</th>
              <th scope="col">Node</th>
            </tr>
          </thead>
          <tbody>
            {(['a', 'b'] as const).map((name) => {
              const side = group[name];
              const node = side.agent_id ? nodes?.find((n) => n.id === side.agent_id) : undefined;
              return (
                <tr key={name} data-side={name}>
                  <td>
                    <strong>{SIDE_LABELS[name]}</strong>
                  </td>
                  <td>
                    <Link to={`/dongles/${side.dongle_id}`} className="device-id">
                      {formatDeviceId(side.device_id)}
                    </Link>
                  </td>
                  <td>
                    <OnlineStatus online={side.online} />
                  </td>
                  <td>
                    {side.agent_id === null && <span className="muted">None of your nodes hears it now</span>}
                    {side.agent_id !== null && (
                      <Link to={`/nodes/${side.agent_id}`}>{node?.name ?? 'Node'}</Link>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
