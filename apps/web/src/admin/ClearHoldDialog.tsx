import type { AdminDongle, OwnershipState } from '@canopy/protocol';
import { adminApi } from '../api/admin';
import { SITUATIONS } from '../api/messages';
import { formatDeviceId } from '../dongles/dongleText';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { useSubmission } from '../ui/useSubmission';
import { restoreAction, restoreConsequences } from './adminDongleText';

interface ClearHoldDialogProps {
  dongle: AdminDongle;
  onDone: (state: OwnershipState) => void;
  onCancel: () => void;
}

/** The manual reset flow (spec 002 §11.3): asks, then ends the hold and gives the dongle back to its owner. */
export function ClearHoldDialog({ dongle, onDone, onCancel }: ClearHoldDialogProps) {
  const submission = useSubmission([]);
  let answered: OwnershipState = 'UNCLAIMED';

  async function confirm() {
    const ok = await submission.run(
      async () => {
        answered = (await adminApi.clearHold(dongle.id)).ownership_state;
      },
      { DONGLE_NOT_FOUND: SITUATIONS.adminDongleGone },
    );
    if (ok) onDone(answered);
  }

  return (
    <ConfirmDialog
      title="Clear the security hold?"
      confirmLabel={restoreAction(dongle) ?? 'Clear hold'}
      busy={submission.busy}
      error={submission.formError}
      onConfirm={confirm}
      onCancel={onCancel}
    >
      <p>
        <strong className="device-id">{formatDeviceId(dongle.device_id)}</strong> is on security hold
        {dongle.owner_email ? (
          <>
            {' '}
            (owner <strong>{dongle.owner_email}</strong>).
          </>
        ) : (
          '.'
        )}
      </p>
      <p>{restoreConsequences(dongle)}</p>
    </ConfirmDialog>
  );
}
