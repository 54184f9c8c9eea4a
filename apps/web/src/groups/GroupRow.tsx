import type { Group } from '@canopy/protocol';
import { Link } from 'react-router';
import { formatDeviceId } from '../dongles/dongleText';
import { OnlineStatus } from '../ui/OnlineStatus';
import { bufferSummary, offlineText } from './groupText';
import { ModeBadge } from './ModeBadge';

/** One group: its mode, which side is offline, both dongles and what the relay holds for them. */
export function GroupRow({ group }: { group: Group }) {
  const offline = offlineText(group);
  return (
    <tr data-group-id={group.id}>
      <td>
        <ModeBadge mode={group.mode} />
        {offline && <span className="cell-sub">{offline}</span>}
      </td>
      <td>
        <Link to={`/groups/${group.id}`}>{group.name}</Link>
      </td>
      {(['a', 'b'] as const).map((side) => (
        <td key={side}>
          <span className="device-id">{formatDeviceId(group[side].device_id)}</span>
          <span className="cell-sub">
            <OnlineStatus online={group[side].online} />
          </span>
        </td>
      ))}
      <td>{bufferSummary(group.buffer)}</td>
    </tr>
  );
}
