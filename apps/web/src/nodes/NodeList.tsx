import type { AgentSummary } from '@canopy/protocol';
import { useState } from 'react';
import { ErrorAlert } from '../ui/Alert';
import { useNow } from '../ui/useNow';
import { NodeRow } from './NodeRow';
import { RemoveNodeDialog } from './RemoveNodeDialog';

interface NodeListProps {
  agents: AgentSummary[] | null;
  /** Why the list could not be loaded or refreshed; the last list stays on screen. */
  error: string | null;
  onChanged: () => void;
}

/** The user's nodes with their presence; "last seen" keeps counting between refreshes. */
export function NodeList({ agents, error, onChanged }: NodeListProps) {
  const now = useNow();
  const [removing, setRemoving] = useState<AgentSummary | null>(null);

  return (
    <section className="section" aria-labelledby="nodes-title">
      <h2 id="nodes-title">Your nodes</h2>
      <ErrorAlert>{error}</ErrorAlert>
      <div className="card table-card">
        <table className="table">
          <caption className="visually-hidden">Your nodes</caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Name</th>
              <th scope="col">OS</th>
              <th scope="col">Version</th>
              <th scope="col">Connection</th>
              <th scope="col">Last seen</th>
              <th scope="col">Uptime</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {agents?.map((agent) => (
              <NodeRow key={agent.id} agent={agent} now={now} onRemove={() => setRemoving(agent)} />
            ))}
          </tbody>
        </table>
        {agents === null && !error && (
          <p className="empty" role="status">
            Loading…
          </p>
        )}
        {agents?.length === 0 && (
          <p className="empty">No nodes yet — create an enrollment key and follow the three steps.</p>
        )}
      </div>
      {removing && (
        <RemoveNodeDialog
          agent={removing}
          onCancel={() => setRemoving(null)}
          onDone={() => {
            setRemoving(null);
            onChanged();
          }}
        />
      )}
    </section>
  );
}
