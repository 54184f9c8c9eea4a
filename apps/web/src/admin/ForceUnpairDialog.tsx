import type { AdminDongle } from '@canopy/protocol';
import { adminApi } from '../api/admin';
import { SITUATIONS } from '../api/messages';
import { formatDeviceId } from '../dongles/dongleText';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { useSubmission } from '../ui/useSubmission';
import { unpairConsequences } from './adminDongleText';

interface ForceUnpairDialogProps {
  dongle: AdminDongle;
  onDone: () => void;
  onCancel: () => void;
}

/** Asks before force-unpairing (spec 002 §11.3: also how a hold is cleared), then does it. */
export function ForceUnpairDialog({ dongle, onDone, onCancel }: ForceUnpairDialogProps) {
  const submission = useSubmission([]);
  const held = dongle.ownership_state === 'SECURITY_HOLD';

  async function confirm() {
    const ok = await submission.run(() => adminApi.forceUnpair(dongle.id), {
      DONGLE_NOT_FOUND: SITUATIONS.adminDongleGone,
    });
    if (ok) onDone();
  }

  return (
    <ConfirmDialog
      title={held ? 'Clear the security hold?' : 'Force unpair this dongle?'}
      confirmLabel="Force unpair"
      danger
      busy={submission.busy}
      error={submission.formError}
      onConfirm={confirm}
      onCancel={onCancel}
    >
      <p>
        <Subject dongle={dongle} />
      </p>
      <p>{unpairConsequences(dongle)}</p>
    </ConfirmDialog>
  );
}

/** Which dongle, whose, and whether it is held, in one sentence. */
function Subject({ dongle }: { dongle: AdminDongle }) {
  const name = <strong className="device-id">{formatDeviceId(dongle.device_id)}</strong>;
  const owner = dongle.owner_email && <strong>{dongle.owner_email}</strong>;
  const held = dongle.ownership_state === 'SECURITY_HOLD';
  if (owner && held) {
    return (
      <>
        {name}, owned by {owner}, is on security hold.
      </>
    );
  }
  if (owner) {
    return (
      <>
        {name} is owned by {owner}.
      </>
    );
  }
  return (
    <>
      {name} {held ? 'is on security hold.' : 'has no owner.'}
    </>
  );
}
