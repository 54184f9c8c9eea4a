import type { EnrollmentKey } from '@canopy/protocol';
import { useState } from 'react';
import { agentsApi } from '../api/agents';
import { errorMessage } from '../api/messages';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { keyName } from './keyName';

interface RevokeKeyDialogProps {
  enrollmentKey: EnrollmentKey;
  onDone: () => void;
  onCancel: () => void;
}

export function RevokeKeyDialog({ enrollmentKey, onDone, onCancel }: RevokeKeyDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      await agentsApi.revokeEnrollmentKey(enrollmentKey.id);
      onDone();
    } catch (caught) {
      setError(errorMessage(caught));
      setBusy(false);
    }
  }

  return (
    <ConfirmDialog
      title={`Revoke ${keyName(enrollmentKey)}?`}
      confirmLabel="Revoke key"
      danger
      busy={busy}
      error={error}
      onConfirm={confirm}
      onCancel={onCancel}
    >
      <p>
        No more computers can be set up with this key. Nodes already set up with it keep working; remove them
        from the list above if they should stop.
      </p>
    </ConfirmDialog>
  );
}
