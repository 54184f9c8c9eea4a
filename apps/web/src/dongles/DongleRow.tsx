import type { Dongle } from '@canopy/protocol';
import { Link } from 'react-router';
import { LastSeen } from '../ui/LastSeen';
import { OnlineStatus } from '../ui/OnlineStatus';
import { formatDeviceId, seenBy } from './dongleText';
import { OwnershipBadge } from './OwnershipBadge';
import { PairingBadge } from './PairingBadge';

const none = <span className="muted">—</span>;

/** One dongle; `data-device-id` (the 16 hex digits) lets a test or a script find its row. */
export function DongleRow({ dongle, now }: { dongle: Dongle; now: number }) {
  const node = seenBy(dongle);
  return (
    <tr data-device-id={dongle.device_id}>
      <td>
        <OnlineStatus online={dongle.online} />
        <PairingBadge state={dongle.pairing_state} />
      </td>
      <td className="cell-nowrap">
        <Link to={`/dongles/${dongle.id}`} className="device-id">
          {formatDeviceId(dongle.device_id)}
        </Link>
      </td>
      <td className="cell-nowrap">{dongle.lan_ip ?? none}</td>
      <td>{dongle.fw_build ?? none}</td>
      <td>
        {node ? (
          <>
            <Link to={`/nodes/${node.agentId}`}>{node.name}</Link>
            {node.more > 0 && (
              <span title={dongle.seen_by.map((s) => s.agent_name).join(', ')}> and {node.more} more</span>
            )}
          </>
        ) : (
          none
        )}
      </td>
      <td>
        <OwnershipBadge dongle={dongle} />
      </td>
      <td className="cell-nowrap">
        <LastSeen iso={dongle.last_seen_at} now={now} />
      </td>
    </tr>
  );
}
