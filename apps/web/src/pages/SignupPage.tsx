import { SignupRequest } from '@canopy/protocol';
import { type FormEvent, useState } from 'react';
import { Link, Navigate, useLocation } from 'react-router';
import { AuthLayout } from '../auth/AuthLayout';
import { useAuth } from '../auth/context';
import { returnPath } from '../auth/returnPath';
import { validateNewPassword } from '../auth/validate';
import { ErrorAlert } from '../ui/Alert';
import { Field } from '../ui/Field';
import { Splash } from '../ui/Splash';
import { useSubmission } from '../ui/useSubmission';

export function SignupPage() {
  const { status, signup } = useAuth();
  const location = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const form = useSubmission(['email', 'password']);

  if (status.kind === 'loading') return <Splash />;
  if (status.kind === 'signed-in') return <Navigate to={returnPath(location.state)} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (form.reject(validateNewPassword(SignupRequest, { email, password, confirm }))) return;
    await form.run(() => signup({ email, password }));
  }

  return (
    <AuthLayout
      title="Create your Canopy account"
      footer={
        <>
          Already have an account?{' '}
          <Link to="/login" state={location.state}>
            Log in
          </Link>
        </>
      }
    >
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
        <Field
          id="password"
          label="Password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={setPassword}
          error={form.fields.password}
          hint="At least 10 characters. A few unrelated words make a strong password."
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
          {form.busy ? 'Signing up…' : 'Sign up'}
        </button>
      </form>
    </AuthLayout>
  );
}
