import { type AdminDongle, OwnershipState } from '@canopy/protocol';
import { useState } from 'react';
import { ADMIN_DONGLES_LIMIT, adminApi } from '../api/admin';
import { ErrorAlert, Notice } from '../ui/Alert';
import { useDebounced } from '../ui/useDebounced';
import { useNow } from '../ui/useNow';
import { usePageTitle } from '../ui/usePageTitle';
import { AdminDongleRow } from './AdminDongleRow';
import {
  afterForceUnpair,
  emptySentence,
  restoredSentence,
  STATE_FILTERS,
  searchTerm,
  unpairedSentence,
} from './adminDongleText';
import { ClearHoldDialog } from './ClearHoldDialog';
import { ForceUnpairDialog } from './ForceUnpairDialog';
import { LoadMore } from './LoadMore';
import { useCursorList } from './useCursorList';

/** Fixed widths (dongles.css): the columns stay put when the filter changes. */
const COLUMNS = ['device', 'state', 'owner', 'firmware', 'last-seen', 'actions'] as const;

/** "All dongles" (the user's own page is "Dongles"): every dongle, and support's force-unpair / clear hold. */
export function AdminDonglesPage() {
  usePageTitle('All dongles');
  const now = useNow();
  const [state, setState] = useState<OwnershipState | undefined>(undefined);
  const [typed, setTyped] = useState('');
  const query = useDebounced(searchTerm(typed), 300);
  const [unpairing, setUnpairing] = useState<AdminDongle | null>(null);
  const [restoring, setRestoring] = useState<AdminDongle | null>(null);
  const [done, setDone] = useState<string | null>(null);

  // One page of at most ADMIN_DONGLES_LIMIT; the list hook still gives loading, retry and in-place updates.
  const list = useCursorList(
    async (_cursor, signal) => {
      const { dongles } = await adminApi.dongles({ state, q: query || undefined }, signal);
      return { items: dongles, next: null };
    },
    JSON.stringify([state, query]),
  );

  function unpaired(dongle: AdminDongle) {
    const at = new Date();
    list.update((row) => (row.id === dongle.id ? afterForceUnpair(row, at) : row));
    setDone(unpairedSentence(dongle));
    setUnpairing(null);
  }

  function restored(dongle: AdminDongle, state: OwnershipState) {
    const at = new Date().toISOString();
    list.update((row) =>
      row.id === dongle.id
        ? {
            ...row,
            ownership_state: state,
            ...(state === 'UNCLAIMED' ? { owner_user_id: null, owner_email: null } : {}),
            updated_at: at,
          }
        : row,
    );
    setDone(restoredSentence(dongle, state));
    setRestoring(null);
  }

  return (
    <>
      <div className="page-header">
        <h1>All dongles</h1>
        <p className="muted">
          Every dongle that a node has reported, whoever owns it. A security hold ends here: give the dongle
          back to its owner once you know the owner set it off, or force-unpair it to take it from them.
        </p>
      </div>

      <search className="toolbar">
        <div className="field field-inline">
          <label htmlFor="dongle-state">State</label>
          <select
            id="dongle-state"
            value={state ?? ''}
            onChange={(event) => setState(OwnershipState.optional().parse(event.target.value || undefined))}
          >
            {STATE_FILTERS.map((filter) => (
              <option key={filter.label} value={filter.state ?? ''}>
                {filter.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-inline">
          <label htmlFor="dongle-search">Search</label>
          <input
            id="dongle-search"
            type="search"
            placeholder="Device ID or owner email"
            maxLength={200}
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
          />
        </div>
      </search>

      <Notice>{done}</Notice>

      <div className="card table-card">
        <table className="table admin-dongle-table">
          <caption className="visually-hidden">All dongles</caption>
          <colgroup>
            {COLUMNS.map((column) => (
              <col key={column} className={`col-admin-${column}`} />
            ))}
          </colgroup>
          <thead>
            <tr>
              <th scope="col">Device ID</th>
              <th scope="col">State</th>
              <th scope="col">Owner</th>
              <th scope="col">Firmware</th>
              <th scope="col">Last seen</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((dongle) => (
              <AdminDongleRow
                key={dongle.id}
                dongle={dongle}
                now={now}
                onUnpair={() => {
                  setDone(null);
                  setUnpairing(dongle);
                }}
                onRestore={() => {
                  setDone(null);
                  setRestoring(dongle);
                }}
              />
            ))}
          </tbody>
        </table>
        {!list.loading && !list.error && list.items.length === 0 && (
          <p className="empty">{emptySentence(state, query)}</p>
        )}
      </div>
      {list.items.length >= ADMIN_DONGLES_LIMIT && (
        <p className="muted">
          These are the {ADMIN_DONGLES_LIMIT} most recently changed. Search or filter to find another.
        </p>
      )}

      <ErrorAlert>{list.error}</ErrorAlert>
      <LoadMore list={list} />

      {unpairing && (
        <ForceUnpairDialog
          dongle={unpairing}
          onDone={() => unpaired(unpairing)}
          onCancel={() => setUnpairing(null)}
        />
      )}
      {restoring && (
        <ClearHoldDialog
          dongle={restoring}
          onDone={(state) => restored(restoring, state)}
          onCancel={() => setRestoring(null)}
        />
      )}
    </>
  );
}
