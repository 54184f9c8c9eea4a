import type { Dongle } from '@canopy/protocol';
import { Facts } from '../ui/Facts';
import { formatDateTime } from '../ui/format';
import { LastSeen } from '../ui/LastSeen';
import { OwnershipBadge } from './OwnershipBadge';

/** What the cloud knows about a dongle; its status is in the header. */
export function DongleFacts({ dongle, now }: { dongle: Dongle; now: number }) {
  return (
    <Facts
      facts={[
        ['Device ID', <code key="id">{dongle.device_id}</code>],
        ['Ownership', <OwnershipBadge key="owner" dongle={dongle} />],
        ['Firmware', dongle.fw_build ?? 'Not reported'],
        ['Address', dongle.lan_ip ?? '—'],
        ['Last seen', <LastSeen key="seen" iso={dongle.last_seen_at} now={now} />],
        ['First seen', formatDateTime(dongle.created_at)],
      ]}
    />
  );
}
