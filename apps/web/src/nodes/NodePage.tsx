import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { agentsApi } from '../api/agents';
import { isApiError } from '../api/errors';
import { errorMessage, SITUATIONS } from '../api/messages';
import { TaskSection } from '../tasks/TaskSection';
import { ErrorAlert } from '../ui/Alert';
import { DetailFallback } from '../ui/DetailFallback';
import { usePageTitle } from '../ui/usePageTitle';
import { usePolled } from '../ui/usePolled';
import { NodeFacts } from './NodeFacts';
import { NodeHeader } from './NodeHeader';
import { RemoveNodeDialog } from './RemoveNodeDialog';

const REFRESH_MS = 5000;

/** /nodes/:id; a new id starts from a clean page. */
export function NodePage() {
  const { id = '' } = useParams();
  return <NodeView key={id} id={id} />;
}

function NodeView({ id }: { id: string }) {
  const navigate = useNavigate();
  const [removing, setRemoving] = useState(false);
  const node = usePolled(
    (signal) => agentsApi.get(id, signal),
    (_data, error) =>
      isApiError(error, 'NOT_FOUND') || isApiError(error, 'VALIDATION_ERROR') ? null : REFRESH_MS,
  );
  const agent = node.data?.agent ?? null;
  usePageTitle(agent?.name ?? 'Node');

  const error = node.error
    ? errorMessage(node.error, {
        NOT_FOUND: SITUATIONS.nodeNotFound,
        VALIDATION_ERROR: SITUATIONS.nodeNotFound,
      })
    : null;
  if (!agent)
    return <DetailFallback back={{ to: '/nodes', label: 'All nodes' }} title="Node" error={error} />;

  return (
    <>
      <NodeHeader
        agent={agent}
        onRenamed={(renamed) => node.setData({ agent: renamed })}
        onRemove={() => setRemoving(true)}
      />
      <ErrorAlert>{error}</ErrorAlert>
      <NodeFacts agent={agent} />
      <TaskSection agentId={agent.id} online={agent.online} />
      {removing && (
        <RemoveNodeDialog
          agent={agent}
          onCancel={() => setRemoving(false)}
          onDone={() => navigate('/nodes', { replace: true })}
        />
      )}
    </>
  );
}
