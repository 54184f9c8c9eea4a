import { useState } from 'react';
import { ErrorAlert } from '../ui/Alert';
import { AuthLayout } from './AuthLayout';
import { useAuth } from './context';

/** Shown instead of the dashboard when we could not even learn whether the user is logged in. */
export function Unreachable({ message }: { message: string }) {
  const { refresh } = useAuth();
  const [busy, setBusy] = useState(false);

  async function retry() {
    setBusy(true);
    await refresh();
    setBusy(false);
  }

  return (
    <AuthLayout title="Canopy is out of reach">
      <ErrorAlert>{message}</ErrorAlert>
      <button type="button" className="button button-block" onClick={retry} disabled={busy}>
        {busy ? 'Trying…' : 'Try again'}
      </button>
    </AuthLayout>
  );
}
