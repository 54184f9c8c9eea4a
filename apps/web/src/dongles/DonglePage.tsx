import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { donglesApi } from '../api/dongles';
import { isApiError } from '../api/errors';
import { codeSentence, errorMessage, SITUATIONS } from '../api/messages';
import { CanConfigForm } from '../can-config/CanConfigForm';
import { CommandConsole } from '../commands/CommandConsole';
import { LiveConsole } from '../console/LiveConsole';
import { PairingDialog } from '../pairing/PairingDialog';
import { PairOffer } from '../pairing/PairOffer';
import { offersPairing, pairingBlocker } from '../pairing/pairingText';
import { UnpairDialog } from '../pairing/UnpairDialog';
import { ErrorAlert, Notice } from '../ui/Alert';
import { DetailFallback } from '../ui/DetailFallback';
import { useNow } from '../ui/useNow';
import { usePageTitle } from '../ui/usePageTitle';
import { usePolled } from '../ui/usePolled';
import { DongleFacts } from './DongleFacts';
import { DongleHeader } from './DongleHeader';
import { formatDeviceId } from './dongleText';
import { HoldAlert } from './HoldAlert';
import { REFRESH_MS, useFastScan } from './live';
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

/**
 * One dongle, and what its state allows: pairing one that isn't the user's (or the user's that was reset);
 * for the owner, its CAN configuration, its commands and unpairing; nothing at all while on security hold.
 */
function DongleView({ id }: { id: string }) {
  const navigate = useNavigate();
  const now = useNow();
  useFastScan();
  const [dialog, setDialog] = useState<'pair' | 'unpair' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const found = usePolled(
    (signal) => donglesApi.get(id, signal),
    (_data, error) =>
      isApiError(error, 'DONGLE_NOT_FOUND') || isApiError(error, 'VALIDATION_ERROR') ? null : REFRESH_MS,
  );
  const { reload } = found;
  const dongle = found.data?.dongle ?? null;
  const name = dongle ? formatDeviceId(dongle.device_id) : null;
  usePageTitle(name ? `Dongle ${name}` : 'Dongle');

  const error = found.error ? errorMessage(found.error, NOT_FOUND) : null;
  if (!dongle) return <DetailFallback back={BACK} title="Dongle" error={error} />;

  const held = dongle.ownership_state === 'SECURITY_HOLD';
  const active = dongle.owned && dongle.ownership_state === 'CLAIMED_ACTIVE';
  const offline = dongle.online ? null : codeSentence('AGENT_OFFLINE');

  /** Once unpaired, the dongle stays on this page only while one of the user's nodes still sees it. */
  async function unpaired() {
    setDialog(null);
    const still = await donglesApi.get(id).catch(() => null);
    if (!still) {
      navigate(BACK.to, { replace: true });
      return;
    }
    found.setData(still);
    setNotice(SITUATIONS.unpaired);
  }

  return (
    <>
      <DongleHeader
        dongle={dongle}
        back={BACK}
        onUnpair={dongle.owned && !held ? () => setDialog('unpair') : undefined}
      />
      <ErrorAlert>{error}</ErrorAlert>
      <Notice>{notice}</Notice>
      {held && <HoldAlert />}
      {offersPairing(dongle) && (
        <PairOffer
          dongle={dongle}
          onPair={() => {
            setNotice(null);
            setDialog('pair');
          }}
        />
      )}
      <DongleFacts dongle={dongle} now={now} />
      {active && <CanConfigForm dongleId={dongle.id} blocker={offline} onChanged={reload} />}
      {active && <CommandConsole dongleId={dongle.id} blocker={offline} onChanged={reload} />}
      {active && <LiveConsole source={{ kind: 'dongle', id: dongle.id }} online={dongle.online} />}
      <SightingList sightings={dongle.seen_by} now={now} />

      {dialog === 'pair' && (
        <PairingDialog
          dongleId={dongle.id}
          blocker={pairingBlocker(dongle)}
          onChanged={reload}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === 'unpair' && (
        <UnpairDialog dongleId={dongle.id} onCancel={() => setDialog(null)} onDone={unpaired} />
      )}
    </>
  );
}
