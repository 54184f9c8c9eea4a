import { Navigate, Outlet, useLocation } from 'react-router';
import { Splash } from '../ui/Splash';
import { useAuth } from './context';
import { Unreachable } from './Unreachable';

/** Renders its child routes for a logged-in user; sends everyone else to /login and back afterwards. */
export function RequireAuth() {
  const { status } = useAuth();
  const location = useLocation();

  if (status.kind === 'loading') return <Splash />;
  if (status.kind === 'unknown') return <Unreachable message={status.error} />;
  if (status.kind === 'signed-out') return <Navigate to="/login" replace state={{ from: location }} />;
  return <Outlet />;
}
