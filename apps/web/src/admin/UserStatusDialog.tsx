import type { AdminUser } from '@canopy/protocol';
import { useState } from 'react';
import { adminApi } from '../api/admin';
import { errorMessage, SITUATIONS } from '../api/messages';
import { ConfirmDialog } from '../ui/ConfirmDialog';

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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const disabling = action === 'disable';

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      const result = disabling ? await adminApi.disableUser(user.id) : await adminApi.enableUser(user.id);
      onDone(result.user);
    } catch (caught) {
      setError(errorMessage(caught, disabling ? { CONFLICT: SITUATIONS.disableSelf } : {}));
      setBusy(false);
    }
  }

  return (
    <ConfirmDialog
      title={disabling ? 'Disable this user?' : 'Enable this user?'}
      confirmLabel={disabling ? 'Disable user' : 'Enable user'}
      danger={disabling}
      busy={busy}
      error={error}
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
