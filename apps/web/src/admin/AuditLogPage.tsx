import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { type AuditFilter, adminApi } from '../api/admin';
import { ErrorAlert } from '../ui/Alert';
import { usePageTitle } from '../ui/usePageTitle';
import { AuditRow } from './AuditRow';
import { LoadMore } from './LoadMore';
import { useCursorList } from './useCursorList';

const EMPTY = { action: '', actor: '', target: '' };
const KEYS = ['action', 'actor', 'target'] as const;

/** The filter lives in the address (?action=…&actor=…&target=…), so another page can link to a filtered log. */
export function AuditLogPage() {
  usePageTitle('Audit log');
  const [params, setParams] = useSearchParams();
  const filter = useMemo<AuditFilter>(
    () => Object.fromEntries(KEYS.map((key) => [key, params.get(key)?.trim() || undefined])),
    [params],
  );
  const [draft, setDraft] = useState(EMPTY);
  // The fields show the filter in force, also when a link or the back button changes it.
  useEffect(() => {
    setDraft({ action: filter.action ?? '', actor: filter.actor ?? '', target: filter.target ?? '' });
  }, [filter]);

  const list = useCursorList(async (cursor, signal) => {
    const page = await adminApi.auditLogs(filter, cursor, signal);
    return { items: page.entries, next: page.next_cursor };
  }, JSON.stringify(filter));

  function apply(event: FormEvent) {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const key of KEYS) {
      const value = draft[key].trim();
      if (value) next.set(key, value);
    }
    setParams(next);
  }

  function clear() {
    setDraft(EMPTY);
    setParams({});
  }

  const filtered = Boolean(filter.action || filter.actor || filter.target);
  const input = (key: keyof typeof EMPTY, label: string, placeholder: string) => (
    <div className="field field-inline">
      <label htmlFor={`audit-${key}`}>{label}</label>
      <input
        id={`audit-${key}`}
        value={draft[key]}
        placeholder={placeholder}
        onChange={(event) => setDraft({ ...draft, [key]: event.target.value })}
      />
    </div>
  );

  return (
    <>
      <div className="page-header">
        <h1>Audit log</h1>
        <p className="muted">Who did what, newest first.</p>
      </div>

      <form className="toolbar" onSubmit={apply} aria-label="Filter the audit log">
        {input('action', 'Action', 'e.g. auth.login')}
        {input('actor', 'Actor', 'Email or user ID')}
        {input('target', 'Target', 'Type or ID')}
        <div className="toolbar-buttons">
          <button type="submit" className="button">
            Filter
          </button>
          <button type="button" className="button button-secondary" onClick={clear}>
            Clear
          </button>
        </div>
      </form>

      <div className="card table-card">
        <table className="table">
          <caption className="visually-hidden">Audit log entries</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Action</th>
              <th scope="col">Actor</th>
              <th scope="col">Target</th>
              <th scope="col">IP</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((entry) => (
              <AuditRow key={entry.id} entry={entry} />
            ))}
          </tbody>
        </table>
        {!list.loading && !list.error && list.items.length === 0 && (
          <p className="empty">
            {filtered ? 'No entries match these filters.' : 'Nothing has been recorded yet.'}
          </p>
        )}
      </div>

      <ErrorAlert>{list.error}</ErrorAlert>
      <LoadMore list={list} />
    </>
  );
}
