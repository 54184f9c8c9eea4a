import type { ReactNode } from 'react';
import { Logo } from '../ui/Logo';
import { usePageTitle } from '../ui/usePageTitle';

/** The centred card around the login, signup and mail-link pages. */
export function AuthLayout({
  title,
  children,
  footer,
}: {
  title: string;
  children: ReactNode;
  footer?: ReactNode;
}) {
  usePageTitle(title);
  return (
    <main className="auth-page">
      <div className="auth-brand">
        <Logo size={36} />
        <span>Canopy</span>
      </div>
      <section className="card auth-card" aria-labelledby="auth-title">
        <h1 id="auth-title">{title}</h1>
        {children}
      </section>
      {footer && <div className="auth-footer">{footer}</div>}
    </main>
  );
}
