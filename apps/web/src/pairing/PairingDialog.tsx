import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { donglesApi } from '../api/dongles';
import { isApiError } from '../api/errors';
import { errorMessage, SITUATIONS } from '../api/messages';
import { ErrorAlert, Notice } from '../ui/Alert';
import { Dialog } from '../ui/Dialog';
import { Field } from '../ui/Field';
import { useNow } from '../ui/useNow';
import { afterPairingFailure, formatCountdown, pairingDeadline, pinDigits } from './pairingText';

type Phase =
  | { name: 'starting' }
  | { name: 'pin'; sessionId: string; deadline: number; receivedAt: number }
  | { name: 'ended'; message: string; canRestart: boolean }
  | { name: 'paired' };

/** A failed PIN says so under the PIN field; anything else goes in the dialog's alert. */
const PIN_CODES = ['PAIRING_PIN_INVALID', 'VALIDATION_ERROR'] as const;
/** In this dialog a hold can only follow the 5th wrong PIN (or the dongle locking itself after them). */
const SUBMIT_SENTENCES = { PAIRING_SECURITY_HOLD: SITUATIONS.tooManyPins };

interface PairingDialogProps {
  dongleId: string;
  /** Why pairing can't start again now (pairingBlocker), or null. */
  blocker: string | null;
  /** Ownership may have changed: the page reloads the dongle. */
  onChanged: () => void;
  onClose: () => void;
}

/**
 * Pairing (spec 002 §11.4): opening the dialog puts the dongle in pairing mode; it then shows a 6-digit PIN
 * that the user types here before the countdown ends.
 */
export function PairingDialog({ dongleId, blocker, onChanged, onClose }: PairingDialogProps) {
  const [phase, setPhase] = useState<Phase>({ name: 'starting' });
  const [pin, setPin] = useState('');
  const [pinError, setPinError] = useState<string | undefined>();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** Remounts the PIN field, so that it has focus again after a wrong PIN. */
  const [attempt, setAttempt] = useState(0);
  const now = useNow(500);
  const live = useRef(true);

  const start = useCallback(async () => {
    setPhase({ name: 'starting' });
    setPin('');
    setPinError(undefined);
    setError(null);
    try {
      const started = await donglesApi.startPairing(dongleId);
      if (!live.current) return;
      const receivedAt = Date.now();
      const deadline = pairingDeadline(started.expires_at, receivedAt);
      setPhase({ name: 'pin', sessionId: started.pairing_session_id, deadline, receivedAt });
    } catch (caught) {
      if (!live.current) return;
      const after = afterPairingFailure(caught);
      setPhase({ name: 'ended', message: errorMessage(caught), canRestart: after !== 'final' });
      if (after === 'final') onChanged();
    }
  }, [dongleId, onChanged]);

  // Once per dialog: StrictMode's second mount in development must not start pairing mode twice.
  const startedOnce = useRef(false);
  useEffect(() => {
    live.current = true;
    if (!startedOnce.current) {
      startedOnce.current = true;
      void start();
    }
    return () => {
      live.current = false;
    };
  }, [start]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (phase.name !== 'pin' || busy) return;
    if (pin.length !== 6) {
      setPinError(SITUATIONS.pinIncomplete);
      return;
    }
    setBusy(true);
    setPinError(undefined);
    setError(null);
    try {
      await donglesApi.submitPin(dongleId, phase.sessionId, pin);
      if (!live.current) return;
      setPhase({ name: 'paired' });
      onChanged();
    } catch (caught) {
      if (!live.current) return;
      const message = errorMessage(caught, SUBMIT_SENTENCES);
      const after = afterPairingFailure(caught);
      if (after === 'retry') {
        if (PIN_CODES.some((code) => isApiError(caught, code))) {
          setPinError(message);
          setPin('');
          setAttempt((n) => n + 1);
        } else {
          setError(message);
        }
      } else {
        setPhase({ name: 'ended', message, canRestart: after === 'restart' });
        onChanged();
      }
    } finally {
      if (live.current) setBusy(false);
    }
  }

  const expired = phase.name === 'pin' && now >= phase.deadline && !busy;
  const shown: Phase = expired
    ? { name: 'ended', message: SITUATIONS.pairingEnded, canRestart: true }
    : phase;

  // The button that had focus is gone with the step it belonged to: focus the new step's main button.
  const primary = useRef<HTMLButtonElement>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on each change of step, by design.
  useEffect(() => {
    primary.current?.focus();
  }, [shown.name]);

  return (
    <Dialog title="Pair this dongle" busy={busy} onCancel={onClose}>
      {shown.name === 'starting' && (
        <>
          <p className="muted" role="status">
            Asking the dongle to enter pairing mode…
          </p>
          <div className="dialog-actions">
            <button ref={primary} type="button" className="button button-secondary" onClick={onClose}>
              Cancel
            </button>
          </div>
        </>
      )}

      {shown.name === 'pin' && (
        <form onSubmit={submit} noValidate>
          <p className="pairing-countdown" role="timer">
            Pairing mode ends in{' '}
            <strong>{formatCountdown(shown.deadline - Math.max(now, shown.receivedAt))}</strong>
          </p>
          <Field
            key={attempt}
            id="pairing-pin"
            label="PIN"
            value={pin}
            onChange={(typed) => setPin(pinDigits(typed))}
            className="input-pin"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]*"
            spellCheck={false}
            autoFocus
            hint="Enter the 6-digit PIN shown on the dongle (or its console)."
            error={pinError}
          />
          <ErrorAlert>{error}</ErrorAlert>
          <div className="dialog-actions">
            <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
              Cancel
            </button>
            <button type="submit" className="button" disabled={busy}>
              {busy ? 'Checking…' : 'Pair'}
            </button>
          </div>
        </form>
      )}

      {shown.name === 'ended' && (
        <>
          <ErrorAlert>{shown.message}</ErrorAlert>
          {shown.canRestart && blocker && <p className="muted">{blocker}</p>}
          <div className="dialog-actions">
            <button
              ref={shown.canRestart && !blocker ? undefined : primary}
              type="button"
              className="button button-secondary"
              onClick={onClose}
            >
              Close
            </button>
            {shown.canRestart && (
              <button
                ref={blocker ? undefined : primary}
                type="button"
                className="button"
                onClick={start}
                disabled={blocker !== null}
              >
                Start again
              </button>
            )}
          </div>
        </>
      )}

      {shown.name === 'paired' && (
        <>
          <Notice>{SITUATIONS.paired}</Notice>
          <p className="dialog-body">
            You can now set its CAN configuration and run commands on it from this page.
          </p>
          <div className="dialog-actions">
            <button ref={primary} type="button" className="button" onClick={onClose}>
              Done
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}
