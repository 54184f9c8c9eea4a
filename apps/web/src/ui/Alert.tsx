import type { ReactNode } from 'react';

/** A failure the user should read now; announced by screen readers. */
export function ErrorAlert({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <div className="alert alert-error" role="alert">
      {children}
    </div>
  );
}

/** Good news or a neutral notice; announced politely. */
export function Notice({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <div className="alert alert-info" role="status">
      {children}
    </div>
  );
}
