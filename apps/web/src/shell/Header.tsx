import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { errorMessage } from '../api/messages';
import { useAuth, useUser } from '../auth/context';
import { Logo } from '../ui/Logo';

export function Header() {
  const { logout } = useAuth();
  const user = useUser();
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function logOut() {
    setBusy(true);
    setError(null);
    try {
      await logout();
      navigate('/login', { replace: true });
    } catch (caught) {
      setError(errorMessage(caught));
      setBusy(false);
    }
  }

  return (
    <header className="header">
      <Link to="/nodes" className="brand">
        <Logo />
        <span>Canopy</span>
      </Link>
      <div className="header-user">
        {error && (
          <span className="header-error" role="alert">
            {error}
          </span>
        )}
        <span className="header-email" title={user.email}>
          {user.email}
        </span>
        <button
          type="button"
          className="button button-secondary button-small"
          onClick={logOut}
          disabled={busy}
        >
          Log out
        </button>
      </div>
    </header>
  );
}
