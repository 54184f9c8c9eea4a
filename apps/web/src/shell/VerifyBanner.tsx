import { useState } from 'react';
import { authApi } from '../api/auth';
import { errorMessage, SITUATIONS } from '../api/messages';
import { useUser } from '../auth/context';

type SendState =
  | { kind: 'idle' }
  | { kind: 'sending' }
  | { kind: 'sent' }
  | { kind: 'failed'; message: string };

/** Reminds a user with an unverified address, and sends the link again on request. */
export function VerifyBanner() {
  const user = useUser();
  const [state, setState] = useState<SendState>({ kind: 'idle' });

  if (user.email_verified) return null;

  async function resend() {
    setState({ kind: 'sending' });
    try {
      await authApi.resendVerification();
      setState({ kind: 'sent' });
    } catch (error) {
      setState({ kind: 'failed', message: errorMessage(error) });
    }
  }

  return (
    <section className="banner" aria-label="Email verification">
      <p className="banner-text">Verify your email address — we sent you a link.</p>
      {state.kind === 'sent' ? (
        <p className="banner-done" role="status">
          {SITUATIONS.verificationSent(user.email)}
        </p>
      ) : (
        <button
          type="button"
          className="button button-secondary button-small"
          onClick={resend}
          disabled={state.kind === 'sending'}
        >
          {state.kind === 'sending' ? 'Sending…' : 'Send again'}
        </button>
      )}
      {state.kind === 'failed' && (
        <p className="banner-error" role="alert">
          {state.message}
        </p>
      )}
    </section>
  );
}
