import { useState } from 'react';
import { useNavigate } from 'react-router';
import { groupsApi } from '../api/groups';
import { errorMessage } from '../api/messages';
import { ErrorAlert } from '../ui/Alert';
import { usePageTitle } from '../ui/usePageTitle';
import { usePolled } from '../ui/usePolled';
import { GroupRow } from './GroupRow';
import { REFRESH_MS } from './live';
import { NewGroupDialog } from './NewGroupDialog';

/** The user's groups, kept up to date, and the way to make one. */
export function GroupsPage() {
  usePageTitle('Groups');
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const list = usePolled((signal) => groupsApi.list(signal), REFRESH_MS);
  const groups = list.data?.groups ?? null;

  return (
    <>
      <div className="page-header">
        <div className="title-row">
          <h1>Groups</h1>
          <button
            type="button"
            className="button button-small title-action"
            onClick={() => setCreating(true)}
          >
            New group
          </button>
        </div>
        <p className="muted">
          Two of your dongles whose CAN buses Canopy connects through the cloud. While a group is active,
          frames from one side go to the other; if a side goes offline, its frames wait in a buffer until it
          is back.
        </p>
      </div>

      <ErrorAlert>{list.error ? errorMessage(list.error) : null}</ErrorAlert>
      <section className="section" aria-labelledby="groups-title">
        <h2 id="groups-title" className="visually-hidden">
          Your groups
        </h2>
        <div className="card table-card">
          <table className="table">
            <caption className="visually-hidden">Your groups</caption>
            <thead>
              <tr>
                <th scope="col">Mode</th>
                <th scope="col">Name</th>
                <th scope="col">Side A</th>
                <th scope="col">Side B</th>
                <th scope="col">Buffered</th>
              </tr>
            </thead>
            <tbody>
              {groups?.map((group) => (
                <GroupRow key={group.id} group={group} />
              ))}
            </tbody>
          </table>
          {groups === null && !list.error && (
            <p className="empty" role="status">
              Loading…
            </p>
          )}
          {groups?.length === 0 && (
            <p className="empty">
              No groups yet. Pair two dongles, then make a group of them with “New group”.
            </p>
          )}
        </div>
      </section>

      {creating && (
        <NewGroupDialog
          groups={groups ?? []}
          onCancel={() => setCreating(false)}
          onCreated={(group) => navigate(`/groups/${group.id}`)}
        />
      )}
    </>
  );
}
