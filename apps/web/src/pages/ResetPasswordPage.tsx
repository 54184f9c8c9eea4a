import { PasswordResetConfirm } from '@canopy/protocol';
import { type FormEvent, useLayoutEffect, useState } from 'react';
import { Link } from 'react-router';
import { authApi } from '../api/auth';
import { SITUATIONS } from '../api/messages';
import { AuthLayout } from '../auth/AuthLayout';
import { useAuth } from '../auth/context';
import { readMailToken, stripMailToken } from '../auth/mailToken';
import { validateNewPassword } from '../auth/validate';
import { ErrorAlert, Notice } from '../ui/Alert';
import { Field } from '../ui/Field';
import { useSubmission } from '../ui/useSubmission';

export function ResetPasswordPage() {
  const { refresh } = useAuth();
  const [token] = useState(readMailToken);
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [done, setDone] = useState(false);
  const form = useSubmission(['password', 'confirm']);

  useLayoutEffect(stripMailToken, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const errors = validateNewPassword(PasswordResetConfirm, { token: token ?? '', password, confirm });
    if (errors.token) return void form.reject({}, SITUATIONS.linkIncomplete);
    if (form.reject(errors)) return;
    const sent = await form.run(() => authApi.confirmPasswordReset(token ?? '', password), {
      VALIDATION_ERROR: SITUATIONS.linkIncomplete,
    });
    if (sent) {
      setDone(true);
      // The change may have ended this browser's session too.
      void refresh();
    }
  }

  if (!token) {
    return (
      <AuthLayout title="Choose a new password" footer={<Link to="/login">Back to log in</Link>}>
        <ErrorAlert>{SITUATIONS.linkIncomplete}</ErrorAlert>
        <Link className="button button-block" to="/forgot-password">
          Ask for a new link
        </Link>
      </AuthLayout>
    );
  }

  if (done) {
    return (
      <AuthLayout title="Password changed">
        <Notice>{SITUATIONS.passwordChanged}</Notice>
        <Link className="button button-block" to="/login">
          Log in
        </Link>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title="Choose a new password" footer={<Link to="/forgot-password">Ask for a new link</Link>}>
      <form onSubmit={submit} noValidate>
        <Field
          id="password"
          label="Password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={setPassword}
          error={form.fields.password}
          hint="At least 10 characters."
          autoFocus
        />
        <Field
          id="confirm"
          label="Confirm password"
          type="password"
          autoComplete="new-password"
          value={confirm}
          onChange={setConfirm}
          error={form.fields.confirm}
        />
        <ErrorAlert>{form.formError}</ErrorAlert>
        <button type="submit" className="button button-block" disabled={form.busy}>
          {form.busy ? 'Saving…' : 'Set new password'}
        </button>
      </form>
    </AuthLayout>
  );
}
