import type { EnrollmentKey } from '@canopy/protocol';
import { agentsApi } from '../api/agents';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { useSubmission } from '../ui/useSubmission';
import { keyName } from './keyName';

interface RevokeKeyDialogProps {
  enrollmentKey: EnrollmentKey;
  onDone: () => void;
  onCancel: () => void;
}

export function RevokeKeyDialog({ enrollmentKey, onDone, onCancel }: RevokeKeyDialogProps) {
  const action = useSubmission([]);

  async function confirm() {
    if (await action.run(() => agentsApi.revokeEnrollmentKey(enrollmentKey.id))) onDone();
  }

  return (
    <ConfirmDialog
      title={`Revoke ${keyName(enrollmentKey)}?`}
      confirmLabel="Revoke key"
      danger
      busy={action.busy}
      error={action.formError}
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
