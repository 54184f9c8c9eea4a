import { Link } from 'react-router';

/** Nothing can be found without a node: say who does the finding, and where to go about it. */
export function NoNodeOnline() {
  return (
    <div className="empty empty-help">
      <p className="empty-title">None of your nodes is online</p>
      <p>
        Dongles are found by canopy-node, running on a computer on the same network as the dongle.{' '}
        <Link to="/nodes">Go to Nodes</Link> to add one, or to see why yours is offline.
      </p>
    </div>
  );
}

/** Nodes are scanning and have heard nothing yet: what the user can check meanwhile. */
export function Searching() {
  return (
    <div className="empty empty-help">
      <p className="empty-title" role="status">
        Looking for dongles on your network…
      </p>
      <p>
        Your online nodes look every few seconds while this page is open, and a dongle shows up here as soon
        as one of them hears it. If yours doesn't, check that:
      </p>
      <ul>
        <li>
          the dongle is powered: plugged into the OBD2 port (some cars power it only with the ignition on);
        </li>
        <li>
          it is on the same local network as a computer running canopy-node: the same Wi-Fi or LAN, as
          discovery doesn't cross routers, VLANs or VPNs.
        </li>
      </ul>
    </div>
  );
}
