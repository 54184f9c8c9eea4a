import { LoginRequest } from '@canopy/protocol';
import { type FormEvent, useState } from 'react';
import { Link, Navigate, useLocation } from 'react-router';
import { AuthLayout } from '../auth/AuthLayout';
import { useAuth } from '../auth/context';
import { returnPath } from '../auth/returnPath';
import { validate } from '../auth/validate';
import { ErrorAlert, Notice } from '../ui/Alert';
import { Field } from '../ui/Field';
import { Splash } from '../ui/Splash';
import { useSubmission } from '../ui/useSubmission';

export function LoginPage() {
  const { status, login } = useAuth();
  const location = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const form = useSubmission(['email', 'password']);

  if (status.kind === 'loading') return <Splash />;
  if (status.kind === 'signed-in') return <Navigate to={returnPath(location.state)} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (form.reject(validate(LoginRequest, { email, password }))) return;
    await form.run(() => login({ email, password }));
  }

  return (
    <AuthLayout
      title="Log in to Canopy"
      footer={
        <>
          New to Canopy?{' '}
          <Link to="/signup" state={location.state}>
            Sign up
          </Link>
        </>
      }
    >
      {status.kind === 'signed-out' && <Notice>{status.notice}</Notice>}
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
          autoComplete="current-password"
          value={password}
          onChange={setPassword}
          error={form.fields.password}
        />
        <div className="form-links">
          <Link to="/forgot-password">Forgot your password?</Link>
        </div>
        <ErrorAlert>{form.formError}</ErrorAlert>
        <button type="submit" className="button button-block" disabled={form.busy}>
          {form.busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </AuthLayout>
  );
}
