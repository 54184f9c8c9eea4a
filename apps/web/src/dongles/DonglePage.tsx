import { useParams } from 'react-router';
import { donglesApi } from '../api/dongles';
import { isApiError } from '../api/errors';
import { errorMessage, SITUATIONS } from '../api/messages';
import { ErrorAlert } from '../ui/Alert';
import { BackLink } from '../ui/BackLink';
import { DetailFallback } from '../ui/DetailFallback';
import { OnlineStatus } from '../ui/OnlineStatus';
import { useNow } from '../ui/useNow';
import { usePageTitle } from '../ui/usePageTitle';
import { usePolled } from '../ui/usePolled';
import { DongleFacts } from './DongleFacts';
import { formatDeviceId } from './dongleText';
import { REFRESH_MS, useFastScan } from './live';
import { PairingBadge } from './PairingBadge';
import { SightingList } from './SightingList';

const BACK = { to: '/dongles', label: 'All dongles' };
/** A bad id in the address reads like one that no longer exists. */
const NOT_FOUND = {
  DONGLE_NOT_FOUND: SITUATIONS.dongleNotFound,
  VALIDATION_ERROR: SITUATIONS.dongleNotFound,
};

/** /dongles/:id; a new id starts from a clean page. */
export function DonglePage() {
  const { id = '' } = useParams();
  return <DongleView key={id} id={id} />;
}

function DongleView({ id }: { id: string }) {
  const now = useNow();
  useFastScan();
  const found = usePolled(
    (signal) => donglesApi.get(id, signal),
    (_data, error) =>
      isApiError(error, 'DONGLE_NOT_FOUND') || isApiError(error, 'VALIDATION_ERROR') ? null : REFRESH_MS,
  );
  const dongle = found.data?.dongle ?? null;
  const name = dongle ? formatDeviceId(dongle.device_id) : null;
  usePageTitle(name ? `Dongle ${name}` : 'Dongle');

  const error = found.error ? errorMessage(found.error, NOT_FOUND) : null;
  if (!dongle) return <DetailFallback back={BACK} title="Dongle" error={error} />;

  return (
    <>
      <div className="page-header" data-device-id={dongle.device_id}>
        <BackLink to={BACK.to}>{BACK.label}</BackLink>
        <div className="title-row">
          <h1 className="device-id">{name}</h1>
          <OnlineStatus online={dongle.online} />
          <PairingBadge state={dongle.pairing_state} />
        </div>
      </div>
      <ErrorAlert>{error}</ErrorAlert>
      <DongleFacts dongle={dongle} now={now} />
      <SightingList sightings={dongle.seen_by} now={now} />
    </>
  );
}
