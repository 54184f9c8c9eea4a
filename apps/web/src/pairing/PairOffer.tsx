import type { Dongle } from '@canopy/protocol';
import { SITUATIONS } from '../api/messages';
import { pairingBlocker } from './pairingText';

interface PairOfferProps {
  dongle: Dongle;
  onPair: () => void;
}

/**
 * The way to pair a dongle that isn't the user's, or to pair again the user's that was reset. The button stays
 * visible when pairing can't start, disabled, with the reason beside it.
 */
export function PairOffer({ dongle, onPair }: PairOfferProps) {
  if (dongle.owned && dongle.ownership_state === 'RESET_DETECTED') {
    return (
      <div className="alert alert-warning pair-offer" role="status">
        <p className="alert-title">{SITUATIONS.dongleReset}</p>
        <p>Pairing again takes the PIN the dongle shows in pairing mode; Canopy then gives it a new token.</p>
        <PairButton dongle={dongle} onPair={onPair} />
      </div>
    );
  }
  return (
    <section className="card pair-offer" aria-labelledby="pair-offer-title">
      <h2 id="pair-offer-title">Not paired with your account</h2>
      <p className="muted">
        Pairing makes this dongle yours: you can then set its CAN configuration and run commands on it. You
        need to see the dongle: in pairing mode it shows a 6-digit PIN for two minutes.
      </p>
      <PairButton dongle={dongle} onPair={onPair} />
    </section>
  );
}

function PairButton({ dongle, onPair }: PairOfferProps) {
  const blocker = pairingBlocker(dongle);
  return (
    <div className="form-actions">
      <button
        type="button"
        className="button"
        onClick={onPair}
        disabled={blocker !== null}
        aria-describedby={blocker ? 'pair-blocker' : undefined}
      >
        Pair this dongle
      </button>
      {blocker && (
        <span id="pair-blocker" className="muted">
          {blocker}
        </span>
      )}
    </div>
  );
}
