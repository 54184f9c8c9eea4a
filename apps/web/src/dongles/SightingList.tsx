import type { DongleSighting } from '@canopy/protocol';
import { Link } from 'react-router';
import { LastSeen } from '../ui/LastSeen';
import { OnlineStatus } from '../ui/OnlineStatus';
import { PairingBadge } from './PairingBadge';

/** Every node of the user's that hears the dongle, and how: on which interface, at which address. */
export function SightingList({ sightings, now }: { sightings: DongleSighting[]; now: number }) {
  return (
    <section className="section" aria-labelledby="sightings-title">
      <h2 id="sightings-title">Seen by your nodes</h2>
      <div className="card table-card">
        <table className="table">
          <caption className="visually-hidden">Seen by your nodes</caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Node</th>
              <th scope="col">Interface</th>
              <th scope="col">Address</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {sightings.map((sighting) => (
              <tr key={sighting.agent_id}>
                <td className="cell-nowrap">
                  <OnlineStatus online={sighting.online} />
                  <PairingBadge state={sighting.pairing_state} />
                </td>
                <td className="cell-strong cell-name">
                  <Link to={`/nodes/${sighting.agent_id}`}>{sighting.agent_name}</Link>
                </td>
                <td className="cell-nowrap">{sighting.interface}</td>
                <td className="cell-nowrap">
                  {sighting.lan_ip}:{sighting.udp_port}
                </td>
                <td className="cell-nowrap">
                  <LastSeen iso={sighting.last_seen_at} now={now} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {sightings.length === 0 && <p className="empty">None of your nodes hears this dongle now.</p>}
      </div>
    </section>
  );
}
