import { ErrorAlert } from './Alert';
import { BackLink } from './BackLink';

interface DetailFallbackProps {
  back: { to: string; label: string };
  title: string;
  /** Why the page could not be loaded; null while it is still loading. */
  error: string | null;
}

/** A detail page before its subject has loaded: the way back, a generic title, and loading or the failure. */
export function DetailFallback({ back, title, error }: DetailFallbackProps) {
  return (
    <>
      <div className="page-header">
        <BackLink to={back.to}>{back.label}</BackLink>
        <h1>{title}</h1>
      </div>
      {error ? (
        <ErrorAlert>{error}</ErrorAlert>
      ) : (
        <p className="muted" role="status">
          Loading…
        </p>
      )}
    </>
  );
}
