import { useEffect, useRef } from 'react';
import { agentsApi } from '../api/agents';
import { errorMessage } from '../api/messages';
import { usePageTitle } from '../ui/usePageTitle';
import { usePolled } from '../ui/usePolled';
import { AddNodeCard } from './AddNodeCard';
import { EnrollmentKeyList } from './EnrollmentKeyList';
import { NodeList } from './NodeList';

/** There is no push stream for presence yet, so the list is asked for again this often. */
const REFRESH_MS = 5000;

export function NodesPage() {
  usePageTitle('Nodes');
  const nodes = usePolled((signal) => agentsApi.list(signal), REFRESH_MS);
  const keys = usePolled((signal) => agentsApi.enrollmentKeys(signal), null);
  useKeysFollowNodes(nodes.data?.agents.length, keys.reload);

  return (
    <>
      <div className="page-header">
        <h1>Nodes</h1>
        <p className="muted">
          The computers running canopy-node for you: whether they are online, and their tasks.
        </p>
      </div>

      <NodeList
        agents={nodes.data?.agents ?? null}
        error={nodes.error ? errorMessage(nodes.error) : null}
        onChanged={nodes.reload}
      />
      <AddNodeCard onKeyCreated={keys.reload} />
      <EnrollmentKeyList
        keys={keys.data?.keys ?? null}
        error={keys.error ? errorMessage(keys.error) : null}
        onChanged={keys.reload}
      />
    </>
  );
}

/** A node that just registered has used a key: reload the keys to show when. */
function useKeysFollowNodes(nodeCount: number | undefined, reloadKeys: () => Promise<void>) {
  const seen = useRef(nodeCount);
  useEffect(() => {
    const before = seen.current;
    seen.current = nodeCount;
    if (before !== undefined && nodeCount !== undefined && nodeCount > before) void reloadKeys();
  }, [nodeCount, reloadKeys]);
}
