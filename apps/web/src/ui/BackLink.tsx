import { Link } from 'react-router';

/** The way back from a detail page to its list, above the title. */
export function BackLink({ to, children }: { to: string; children: string }) {
  return (
    <p className="breadcrumb">
      <Link to={to}>← {children}</Link>
    </p>
  );
}
