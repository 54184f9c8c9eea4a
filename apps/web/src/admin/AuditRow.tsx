import type { AuditLogEntry } from '@canopy/protocol';
import { compactJson, formatDateTime } from '../ui/format';

export function AuditRow({ entry }: { entry: AuditLogEntry }) {
  const details = compactJson(entry.details);
  return (
    <tr>
      <td className="cell-time">
        <time dateTime={entry.created_at} title={entry.created_at}>
          {formatDateTime(entry.created_at)}
        </time>
      </td>
      <td>
        <code>{entry.action}</code>
      </td>
      <td title={entry.actor_user_id ?? undefined}>
        {entry.actor_email ?? entry.actor_user_id ?? (
          // No actor: a request from someone not logged in (it has an IP), or the command line.
          <span className="muted">{entry.ip ? 'Anonymous' : 'System'}</span>
        )}
      </td>
      <td>
        {entry.target_type ? (
          <>
            <span>{entry.target_type}</span>
            {entry.target_id && <span className="cell-id">{entry.target_id}</span>}
          </>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="cell-nowrap" title={entry.user_agent ?? undefined}>
        {entry.ip ?? <span className="muted">—</span>}
      </td>
      <td>
        <code className="cell-json" title={details}>
          {details}
        </code>
      </td>
    </tr>
  );
}
