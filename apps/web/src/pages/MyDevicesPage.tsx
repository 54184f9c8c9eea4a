import { Link } from 'react-router';
import { usePageTitle } from '../ui/usePageTitle';

/**
 * My Devices itself is not in the cloud (spec 001): devices pair with each other and send files directly, and
 * each machine running canopy-node serves the page on 127.0.0.1. This page says where to find it.
 */
export function MyDevicesPage() {
  usePageTitle('My Devices');
  return (
    <>
      <div className="page-header">
        <h1>My Devices</h1>
      </div>
      <section className="card my-devices">
        <p>
          Your computers and phones pair with each other directly — a QR code and a PIN — and send each other
          files without going through this site. So My Devices is not here: each computer that runs
          canopy-node has its own.
        </p>
        <ol>
          <li>
            On a computer with canopy-node, open <a href="http://127.0.0.1:9849">http://127.0.0.1:9849</a>. If
            that does not open, run <code>canopy-node status</code> there: it prints the address.
          </li>
          <li>
            Press <strong>Add a device</strong> and scan the QR code with your phone, or press{' '}
            <strong>Join another device</strong> on another computer's My Devices.
          </li>
          <li>
            Type the PIN the page shows. The devices are paired; send a file from either side with{' '}
            <strong>Send to …</strong>.
          </li>
        </ol>
        <p className="muted">
          Your computers that run canopy-node are under <Link to="/nodes">Nodes</Link>, where you can add
          another.
        </p>
      </section>
    </>
  );
}
