import { SITUATIONS } from '../api/messages';
import { ownership } from './dongleText';

/** A dongle on SECURITY_HOLD (spec 002 §11.3): said first and plainly; the page offers no action on it. */
export function HoldAlert() {
  const { label } = ownership({ owned: false, ownership_state: 'SECURITY_HOLD' });
  return (
    <div className="alert alert-error alert-prominent" role="alert">
      <p className="alert-title">{label}</p>
      <p>{SITUATIONS.dongleHoldWhy}</p>
    </div>
  );
}
