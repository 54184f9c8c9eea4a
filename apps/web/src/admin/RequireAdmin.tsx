import { Outlet } from 'react-router';
import { SITUATIONS } from '../api/messages';
import { useUser } from '../auth/context';
import { ErrorAlert } from '../ui/Alert';

/** The admin pages are for super admins; the server enforces it, this only avoids a useless page. */
export function RequireAdmin() {
  const user = useUser();
  if (user.role !== 'super_admin') {
    return (
      <>
        <div className="page-header">
          <h1>Admin</h1>
        </div>
        <ErrorAlert>{SITUATIONS.adminOnly}</ErrorAlert>
      </>
    );
  }
  return <Outlet />;
}
