import type { AdminUser } from '@canopy/protocol';
import { formatDate } from '../ui/format';
import type { StatusAction } from './UserStatusDialog';

const ROLE_NAMES: Record<AdminUser['role'], string> = { user: 'User', super_admin: 'Super admin' };

interface UserRowProps {
  user: AdminUser;
  onAction: (action: StatusAction) => void;
}

export function UserRow({ user, onAction }: UserRowProps) {
  const active = user.status === 'active';
  return (
    <tr>
      <td className="cell-strong">{user.email}</td>
      <td>{ROLE_NAMES[user.role]}</td>
      <td>
        <span className={active ? 'badge badge-accent' : 'badge badge-muted'}>
          {active ? 'Active' : 'Disabled'}
        </span>
      </td>
      <td>{user.email_verified ? 'Yes' : 'No'}</td>
      <td>
        <time dateTime={user.created_at} title={user.created_at}>
          {formatDate(user.created_at)}
        </time>
      </td>
      <td className="cell-actions">
        {active ? (
          <button
            type="button"
            className="button button-danger-outline button-small"
            onClick={() => onAction('disable')}
          >
            Disable
          </button>
        ) : (
          <button
            type="button"
            className="button button-secondary button-small"
            onClick={() => onAction('enable')}
          >
            Enable
          </button>
        )}
      </td>
    </tr>
  );
}
