import type { AdminUser } from '@canopy/protocol';
import { useState } from 'react';
import { adminApi } from '../api/admin';
import { ErrorAlert, Notice } from '../ui/Alert';
import { useDebounced } from '../ui/useDebounced';
import { usePageTitle } from '../ui/usePageTitle';
import { LoadMore } from './LoadMore';
import { UserRow } from './UserRow';
import { type StatusChange, UserStatusDialog } from './UserStatusDialog';
import { useCursorList } from './useCursorList';

export function UsersPage() {
  usePageTitle('Users');
  const [typed, setTyped] = useState('');
  const query = useDebounced(typed.trim(), 300);
  const [change, setChange] = useState<StatusChange | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const list = useCursorList(async (cursor, signal) => {
    const page = await adminApi.users({ q: query || undefined }, cursor, signal);
    return { items: page.users, next: page.next_cursor };
  }, query);

  function changed(user: AdminUser) {
    list.update((row) => (row.id === user.id ? user : row));
    setDone(`${user.email} is now ${user.status === 'active' ? 'enabled' : 'disabled'}.`);
    setChange(null);
  }

  return (
    <>
      <div className="page-header">
        <h1>Users</h1>
        <p className="muted">Everyone with a Canopy account. Disabling an account blocks its logins.</p>
      </div>

      <search className="toolbar">
        <div className="field field-inline">
          <label htmlFor="user-search">Search</label>
          <input
            id="user-search"
            type="search"
            placeholder="Email address"
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
          />
        </div>
      </search>

      <Notice>{done}</Notice>

      <div className="card table-card">
        <table className="table">
          <caption className="visually-hidden">Users</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Verified</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((user) => (
              <UserRow
                key={user.id}
                user={user}
                onAction={(action) => {
                  setDone(null);
                  setChange({ user, action });
                }}
              />
            ))}
          </tbody>
        </table>
        {!list.loading && !list.error && list.items.length === 0 && (
          <p className="empty">{query ? `No users match “${query}”.` : 'No users yet.'}</p>
        )}
      </div>

      <ErrorAlert>{list.error}</ErrorAlert>
      <LoadMore list={list} />

      {change && <UserStatusDialog change={change} onDone={changed} onCancel={() => setChange(null)} />}
    </>
  );
}
