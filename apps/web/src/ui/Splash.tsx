import { Logo } from './Logo';

/** The brief screen while the app asks the server who is logged in. */
export function Splash() {
  return (
    <div className="splash" role="status" aria-live="polite">
      <Logo size={40} />
      <span className="visually-hidden">Loading Canopy…</span>
    </div>
  );
}
