import type { AgentSummary } from '@canopy/protocol';
import { agentsApi } from '../api/agents';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { useSubmission } from '../ui/useSubmission';

interface RemoveNodeDialogProps {
  agent: AgentSummary;
  onDone: () => void;
  onCancel: () => void;
}

export function RemoveNodeDialog({ agent, onDone, onCancel }: RemoveNodeDialogProps) {
  const action = useSubmission([]);

  async function confirm() {
    if (await action.run(() => agentsApi.remove(agent.id))) onDone();
  }

  return (
    <ConfirmDialog
      title={`Remove ${agent.name}?`}
      confirmLabel="Remove node"
      danger
      busy={action.busy}
      error={action.formError}
      onConfirm={confirm}
      onCancel={onCancel}
    >
      <p>Its token stops working at once; to add it back, set it up again with an enrollment key.</p>
    </ConfirmDialog>
  );
}
