import type { AgentSummary } from '@canopy/protocol';
import { useState } from 'react';
import { BackLink } from '../ui/BackLink';
import { OnlineStatus } from '../ui/OnlineStatus';
import { AlwaysOn } from './AlwaysOn';
import { RenameNode } from './RenameNode';

interface NodeHeaderProps {
  agent: AgentSummary;
  onRenamed: (agent: AgentSummary) => void;
  onRemove: () => void;
}

/** The node's name (renamed in place), its status, and the way out: back to the list or removal. */
export function NodeHeader({ agent, onRenamed, onRemove }: NodeHeaderProps) {
  const [editing, setEditing] = useState(false);

  return (
    <div className="page-header node-header">
      <BackLink to="/nodes">All nodes</BackLink>
      <div className="title-row">
        {editing ? (
          <RenameNode
            agent={agent}
            onCancel={() => setEditing(false)}
            onRenamed={(renamed) => {
              setEditing(false);
              onRenamed(renamed);
            }}
          />
        ) : (
          <>
            <h1>{agent.name}</h1>
            <OnlineStatus online={agent.online} />
            <AlwaysOn agent={agent} />
            <button
              type="button"
              className="button button-secondary button-small"
              onClick={() => setEditing(true)}
            >
              Edit<span className="visually-hidden"> name</span>
            </button>
          </>
        )}
        <button
          type="button"
          className="button button-danger-outline button-small title-action"
          onClick={onRemove}
        >
          Remove
        </button>
      </div>
    </div>
  );
}
