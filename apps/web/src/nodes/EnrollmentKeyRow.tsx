import type { EnrollmentKey } from '@canopy/protocol';
import { formatDateTime } from '../ui/format';

function When({ iso, empty }: { iso: string | null; empty: string }) {
  if (!iso) return <span className="muted">{empty}</span>;
  return (
    <time dateTime={iso} title={iso}>
      {formatDateTime(iso)}
    </time>
  );
}

export function EnrollmentKeyRow({ item, onRevoke }: { item: EnrollmentKey; onRevoke: () => void }) {
  return (
    <tr className={item.revoked_at ? 'row-revoked' : undefined}>
      <td className="cell-strong cell-name">{item.label ?? <span className="muted">No label</span>}</td>
      <td>
        <code>{item.prefix}…</code>
      </td>
      <td className="cell-time">
        <When iso={item.created_at} empty="—" />
      </td>
      <td className="cell-time">
        <When iso={item.last_used_at} empty="Never" />
      </td>
      <td className="cell-actions">
        {item.revoked_at ? (
          <span className="badge badge-muted" title={item.revoked_at}>
            Revoked
          </span>
        ) : (
          <button type="button" className="button button-danger-outline button-small" onClick={onRevoke}>
            Revoke
          </button>
        )}
      </td>
    </tr>
  );
}
