import type { AdminUser } from '@canopy/protocol';
import { adminApi } from '../api/admin';
import { SITUATIONS } from '../api/messages';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { useSubmission } from '../ui/useSubmission';

export type StatusAction = 'disable' | 'enable';

export interface StatusChange {
  user: AdminUser;
  action: StatusAction;
}

interface UserStatusDialogProps {
  change: StatusChange;
  onDone: (user: AdminUser) => void;
  onCancel: () => void;
}

/** Asks before disabling or enabling an account, then does it and reports the updated user. */
export function UserStatusDialog({ change, onDone, onCancel }: UserStatusDialogProps) {
  const { user, action } = change;
  const submission = useSubmission([]);
  const disabling = action === 'disable';

  async function confirm() {
    let updated: AdminUser | undefined;
    const ok = await submission.run(
      async () => {
        updated = (disabling ? await adminApi.disableUser(user.id) : await adminApi.enableUser(user.id)).user;
      },
      disabling ? { CONFLICT: SITUATIONS.disableSelf } : {},
    );
    if (ok && updated) onDone(updated);
  }

  return (
    <ConfirmDialog
      title={disabling ? 'Disable this user?' : 'Enable this user?'}
      confirmLabel={disabling ? 'Disable user' : 'Enable user'}
      danger={disabling}
      busy={submission.busy}
      error={submission.formError}
      onConfirm={confirm}
      onCancel={onCancel}
    >
      <p>
        <strong>{user.email}</strong>{' '}
        {disabling
          ? "won't be able to log in until an administrator enables the account again."
          : 'will be able to log in again.'}
      </p>
    </ConfirmDialog>
  );
}
