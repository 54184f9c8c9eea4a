import { PasswordResetRequest } from '@canopy/protocol';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { authApi } from '../api/auth';
import { SITUATIONS } from '../api/messages';
import { AuthLayout } from '../auth/AuthLayout';
import { validate } from '../auth/validate';
import { ErrorAlert, Notice } from '../ui/Alert';
import { Field } from '../ui/Field';
import { useSubmission } from '../ui/useSubmission';

export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const form = useSubmission(['email']);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (form.reject(validate(PasswordResetRequest, { email }))) return;
    // The answer is the same whether or not the account exists, so nothing here can reveal it.
    if (await form.run(() => authApi.requestPasswordReset(email))) setSent(true);
  }

  const footer = <Link to="/login">Back to log in</Link>;

  if (sent) {
    return (
      <AuthLayout title="Check your email" footer={footer}>
        <Notice>{SITUATIONS.resetRequested}</Notice>
        <p className="muted">
          The link works once and expires after a while. Check your spam folder if it doesn't arrive.
        </p>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title="Reset your password" footer={footer}>
      <p className="muted">
        Enter the email address of your account and we'll send you a link to choose a new password.
      </p>
      <form onSubmit={submit} noValidate>
        <Field
          id="email"
          label="Email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={setEmail}
          error={form.fields.email}
          autoFocus
        />
        <ErrorAlert>{form.formError}</ErrorAlert>
        <button type="submit" className="button button-block" disabled={form.busy}>
          {form.busy ? 'Sending…' : 'Send reset link'}
        </button>
      </form>
    </AuthLayout>
  );
}
