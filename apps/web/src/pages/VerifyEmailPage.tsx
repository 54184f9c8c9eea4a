import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { authApi } from '../api/auth';
import { errorMessage, SITUATIONS } from '../api/messages';
import { AuthLayout } from '../auth/AuthLayout';
import { useAuth } from '../auth/context';
import { readMailToken, stripMailToken } from '../auth/mailToken';
import { ErrorAlert, Notice } from '../ui/Alert';

type Outcome = { kind: 'pending' } | { kind: 'verified' } | { kind: 'failed'; message: string };

export function VerifyEmailPage() {
  const { user, refresh } = useAuth();
  const [token] = useState(readMailToken);
  const [outcome, setOutcome] = useState<Outcome>(() =>
    token ? { kind: 'pending' } : { kind: 'failed', message: SITUATIONS.linkIncomplete },
  );
  // A token works once: keep the one request even when React runs the effect twice in development.
  const request = useRef<Promise<Outcome> | null>(null);

  useLayoutEffect(stripMailToken, []);

  useEffect(() => {
    if (!token) return;
    request.current ??= authApi.verifyEmail(token).then(
      (): Outcome => ({ kind: 'verified' }),
      (error): Outcome => ({
        kind: 'failed',
        message: errorMessage(error, { VALIDATION_ERROR: SITUATIONS.linkIncomplete }),
      }),
    );
    let current = true;
    void request.current.then((result) => {
      if (!current) return;
      setOutcome(result);
      if (result.kind === 'verified') void refresh();
    });
    return () => {
      current = false;
    };
  }, [token, refresh]);

  const next = user ? (
    <Link className="button button-block" to="/nodes">
      Go to Canopy
    </Link>
  ) : (
    <Link className="button button-block" to="/login">
      Log in
    </Link>
  );

  if (outcome.kind === 'pending') {
    return (
      <AuthLayout title="Verifying your email">
        <p className="muted" role="status">
          One moment…
        </p>
      </AuthLayout>
    );
  }

  if (outcome.kind === 'verified') {
    return (
      <AuthLayout title="Email verified">
        <Notice>{SITUATIONS.emailVerified}</Notice>
        {next}
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title="We couldn't verify your email">
      <ErrorAlert>{outcome.message}</ErrorAlert>
      <p className="muted">
        {user
          ? 'You can ask for a new link from the banner at the top of the dashboard.'
          : 'Log in and ask for a new link from the banner at the top of the dashboard.'}
      </p>
      {next}
    </AuthLayout>
  );
}
