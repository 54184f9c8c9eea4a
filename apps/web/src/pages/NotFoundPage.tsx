import { Link } from 'react-router';
import { usePageTitle } from '../ui/usePageTitle';

export function NotFoundPage() {
  usePageTitle('Page not found');
  return (
    <>
      <div className="page-header">
        <h1>Page not found</h1>
      </div>
      <section className="card">
        <p>There is no page at this address.</p>
        <Link to="/nodes">Go to Nodes</Link>
      </section>
    </>
  );
}
