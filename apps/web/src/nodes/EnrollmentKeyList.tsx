import type { EnrollmentKey } from '@canopy/protocol';
import { useState } from 'react';
import { ErrorAlert } from '../ui/Alert';
import { EnrollmentKeyRow } from './EnrollmentKeyRow';
import { RevokeKeyDialog } from './RevokeKeyDialog';

interface EnrollmentKeyListProps {
  keys: EnrollmentKey[] | null;
  error: string | null;
  onChanged: () => void;
}

/** The user's enrollment keys, newest first; an active one can be revoked. */
export function EnrollmentKeyList({ keys, error, onChanged }: EnrollmentKeyListProps) {
  const [revoking, setRevoking] = useState<EnrollmentKey | null>(null);

  return (
    <section className="section" aria-labelledby="keys-title">
      <h2 id="keys-title">Enrollment keys</h2>
      <p className="muted">Each key can set up any number of computers until you revoke it.</p>
      <ErrorAlert>{error}</ErrorAlert>
      <div className="card table-card">
        <table className="table">
          <caption className="visually-hidden">Enrollment keys</caption>
          <thead>
            <tr>
              <th scope="col">Label</th>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys?.map((item) => (
              <EnrollmentKeyRow key={item.id} item={item} onRevoke={() => setRevoking(item)} />
            ))}
          </tbody>
        </table>
        {keys?.length === 0 && <p className="empty">No enrollment keys yet.</p>}
      </div>
      {revoking && (
        <RevokeKeyDialog
          enrollmentKey={revoking}
          onCancel={() => setRevoking(null)}
          onDone={() => {
            setRevoking(null);
            onChanged();
          }}
        />
      )}
    </section>
  );
}
