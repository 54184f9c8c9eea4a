import type { AgentSummary } from '@canopy/protocol';
import { useState } from 'react';
import { agentsApi } from '../api/agents';
import { errorMessage } from '../api/messages';
import { ConfirmDialog } from '../ui/ConfirmDialog';

interface RemoveNodeDialogProps {
  agent: AgentSummary;
  onDone: () => void;
  onCancel: () => void;
}

export function RemoveNodeDialog({ agent, onDone, onCancel }: RemoveNodeDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      await agentsApi.remove(agent.id);
      onDone();
    } catch (caught) {
      setError(errorMessage(caught));
      setBusy(false);
    }
  }

  return (
    <ConfirmDialog
      title={`Remove ${agent.name}?`}
      confirmLabel="Remove node"
      danger
      busy={busy}
      error={error}
      onConfirm={confirm}
      onCancel={onCancel}
    >
      <p>Its token stops working at once; to add it back, set it up again with an enrollment key.</p>
    </ConfirmDialog>
  );
}
