import type { AdminDongle } from '@canopy/protocol';
import { Link } from 'react-router';
import { formatDeviceId } from '../dongles/dongleText';
import { LastSeen } from '../ui/LastSeen';
import { restoreAction, stateBadge, unpairAction } from './adminDongleText';

const none = <span className="muted">—</span>;

interface AdminDongleRowProps {
  dongle: AdminDongle;
  now: number;
  onUnpair: () => void;
  onRestore: () => void;
}

/** One dongle as support sees it; `data-device-id` (the 16 hex digits) lets a test or a script find it. */
export function AdminDongleRow({ dongle, now, onUnpair, onRestore }: AdminDongleRowProps) {
  const name = formatDeviceId(dongle.device_id);
  const badge = stateBadge(dongle.ownership_state);
  const action = unpairAction(dongle);
  const restore = restoreAction(dongle);
  return (
    <tr
      data-device-id={dongle.device_id}
      className={dongle.ownership_state === 'SECURITY_HOLD' ? 'row-hold' : undefined}
    >
      <td className="cell-nowrap">
        <span className="device-id">{name}</span>
      </td>
      <td className="cell-nowrap">
        <span className={`badge badge-${badge.tone}`}>{badge.label}</span>
      </td>
      <td className="cell-strong" title={dongle.owner_user_id ?? undefined}>
        {dongle.owner_email ?? none}
      </td>
      <td>{dongle.fw_build ?? none}</td>
      <td className="cell-nowrap">
        <LastSeen iso={dongle.last_seen_at} now={now} />
      </td>
      <td className="cell-actions">
        <Link to={`/admin/audit-log?target=${encodeURIComponent(dongle.id)}`}>
          Audit log<span className="visually-hidden"> of {name}</span>
        </Link>
        {restore && (
          <button type="button" className="button button-small" onClick={onRestore}>
            {restore}
          </button>
        )}
        {action && (
          <button type="button" className="button button-danger-outline button-small" onClick={onUnpair}>
            {action}
          </button>
        )}
      </td>
    </tr>
  );
}
