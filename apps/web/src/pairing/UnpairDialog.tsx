import { donglesApi } from '../api/dongles';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { useSubmission } from '../ui/useSubmission';

interface UnpairDialogProps {
  dongleId: string;
  onDone: () => void;
  onCancel: () => void;
}

/** Unpairing (spec 002 §12): what the cloud forgets, and what the dongle keeps. */
export function UnpairDialog({ dongleId, onDone, onCancel }: UnpairDialogProps) {
  const action = useSubmission([]);

  async function confirm() {
    if (await action.run(() => donglesApi.unpair(dongleId))) onDone();
  }

  return (
    <ConfirmDialog
      title="Unpair this dongle?"
      confirmLabel="Unpair"
      danger
      busy={action.busy}
      error={action.formError}
      onConfirm={confirm}
      onCancel={onCancel}
    >
      <p>
        Canopy forgets the dongle's token and <strong>you no longer own it</strong>: its CAN configuration and
        commands can't be used from Canopy any more, and it shows up as unclaimed to your nodes.
      </p>
      <p>
        The dongle itself forgets nothing: it keeps its settings until it is paired again, which takes its
        PIN.
      </p>
    </ConfirmDialog>
  );
}
