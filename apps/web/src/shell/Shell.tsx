import { Outlet } from 'react-router';
import { Header } from './Header';
import { SideNav } from './SideNav';
import { VerifyBanner } from './VerifyBanner';

/** The frame around every page of a logged-in user. */
export function Shell() {
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <div className="shell-body">
        <SideNav />
        <main id="main" className="shell-main" tabIndex={-1}>
          <VerifyBanner />
          <Outlet />
        </main>
      </div>
    </div>
  );
}
