import type { Dongle } from '@canopy/protocol';
import { BackLink } from '../ui/BackLink';
import { OnlineStatus } from '../ui/OnlineStatus';
import { formatDeviceId } from './dongleText';
import { PairingBadge } from './PairingBadge';

interface DongleHeaderProps {
  dongle: Dongle;
  back: { to: string; label: string };
  /** Shown to the owner, unless the dongle is on hold. */
  onUnpair?: () => void;
}

/** The device id, its status, and the owner's way out: unpairing. */
export function DongleHeader({ dongle, back, onUnpair }: DongleHeaderProps) {
  return (
    <div className="page-header" data-device-id={dongle.device_id}>
      <BackLink to={back.to}>{back.label}</BackLink>
      <div className="title-row">
        <h1 className="device-id">{formatDeviceId(dongle.device_id)}</h1>
        <OnlineStatus online={dongle.online} />
        <PairingBadge state={dongle.pairing_state} />
        {onUnpair && (
          <button
            type="button"
            className="button button-danger-outline button-small title-action"
            onClick={onUnpair}
          >
            Unpair
          </button>
        )}
      </div>
    </div>
  );
}
