import type { Dongle, Group } from '@canopy/protocol';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { donglesApi } from '../api/dongles';
import { groupsApi } from '../api/groups';
import { errorMessage } from '../api/messages';
import { formatDeviceId } from '../dongles/dongleText';
import { ErrorAlert } from '../ui/Alert';
import { Dialog } from '../ui/Dialog';
import { Field } from '../ui/Field';
import { FieldShell } from '../ui/FieldShell';
import { usePolled } from '../ui/usePolled';
import { useSubmission } from '../ui/useSubmission';
import { draftProblems, eligibleDongles, type GroupDraft } from './groupText';

const FIELDS = ['name', 'dongle_a_id', 'dongle_b_id'] as const;

interface NewGroupDialogProps {
  /** The user's groups: their dongles are not offered. */
  groups: Group[];
  onCreated: (group: Group) => void;
  onCancel: () => void;
}

/** A name and two of the user's paired dongles that are in no group yet; the group starts inactive. */
export function NewGroupDialog({ groups, onCreated, onCancel }: NewGroupDialogProps) {
  const [draft, setDraft] = useState<GroupDraft>({ name: '', dongleA: '', dongleB: '' });
  const { busy, formError, fields, run, reject } = useSubmission(FIELDS);
  const dongles = usePolled((signal) => donglesApi.list(signal), null);
  const eligible = dongles.data ? eligibleDongles(dongles.data.dongles, groups) : null;
  const change = (patch: Partial<GroupDraft>) => setDraft((current) => ({ ...current, ...patch }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy || reject(draftProblems(draft))) return;
    await run(async () => {
      const created = await groupsApi.create({
        name: draft.name.trim(),
        dongle_a_id: draft.dongleA,
        dongle_b_id: draft.dongleB,
      });
      onCreated(created.group);
    });
  }

  return (
    <Dialog title="New group" busy={busy} onCancel={onCancel}>
      {eligible === null && !dongles.error && (
        <p className="muted" role="status">
          Loading your dongles…
        </p>
      )}
      <ErrorAlert>{dongles.error ? errorMessage(dongles.error) : null}</ErrorAlert>
      {eligible !== null && eligible.length < 2 && (
        <>
          <p className="dialog-body">
            A group needs two dongles that are paired with your account and not in another group yet; you have{' '}
            {eligible.length === 0 ? 'none' : 'only one'}. <Link to="/dongles">Go to Dongles</Link> to pair
            one.
          </p>
          <div className="dialog-actions">
            <button type="button" className="button button-secondary" onClick={onCancel}>
              Close
            </button>
          </div>
        </>
      )}
      {eligible !== null && eligible.length >= 2 && (
        <form onSubmit={submit} noValidate>
          <Field
            id="name"
            label="Name"
            value={draft.name}
            onChange={(name) => change({ name })}
            maxLength={80}
            placeholder="e.g. Van ↔ test bench"
            autoFocus
            error={fields.name}
          />
          <DongleSelect
            id="dongle_a_id"
            label="Side A"
            dongles={eligible}
            value={draft.dongleA}
            onChange={(dongleA) => change({ dongleA })}
            error={fields.dongle_a_id}
          />
          <DongleSelect
            id="dongle_b_id"
            label="Side B"
            dongles={eligible}
            value={draft.dongleB}
            onChange={(dongleB) => change({ dongleB })}
            error={fields.dongle_b_id}
          />
          <p className="muted">The group starts inactive: nothing is relayed until you activate it.</p>
          <ErrorAlert>{formError}</ErrorAlert>
          <div className="dialog-actions">
            <button type="button" className="button button-secondary" onClick={onCancel} disabled={busy}>
              Cancel
            </button>
            <button type="submit" className="button" disabled={busy}>
              {busy ? 'Creating…' : 'Create group'}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

interface DongleSelectProps {
  id: string;
  label: string;
  dongles: Dongle[];
  value: string;
  onChange: (id: string) => void;
  error?: string;
}

function DongleSelect({ id, label, dongles, value, onChange, error }: DongleSelectProps) {
  return (
    <FieldShell id={id} label={label} error={error}>
      {(aria) => (
        <select {...aria} id={id} name={id} value={value} onChange={(event) => onChange(event.target.value)}>
          <option value="">Choose a dongle…</option>
          {dongles.map((dongle) => (
            <option key={dongle.id} value={dongle.id}>
              {`${formatDeviceId(dongle.device_id)}${dongle.online ? '' : ' (offline)'}`}
            </option>
          ))}
        </select>
      )}
    </FieldShell>
  );
}
