import { groupsApi } from '../api/groups';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { useSubmission } from '../ui/useSubmission';

interface DeleteGroupDialogProps {
  groupId: string;
  name: string;
  onDone: () => void;
  onCancel: () => void;
}

export function DeleteGroupDialog({ groupId, name, onDone, onCancel }: DeleteGroupDialogProps) {
  const action = useSubmission([]);

  async function confirm() {
    if (await action.run(() => groupsApi.remove(groupId))) onDone();
  }

  return (
    <ConfirmDialog
      title={`Delete ${name}?`}
      confirmLabel="Delete group"
      danger
      busy={action.busy}
      error={action.formError}
      onConfirm={confirm}
      onCancel={onCancel}
    >
      <p>
        Relaying between its two dongles stops at once, and frames still waiting in its buffer are not
        delivered. The dongles stay paired with your account and can go into another group.
      </p>
    </ConfirmDialog>
  );
}
