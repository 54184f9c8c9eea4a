import { NavLink } from 'react-router';
import { useUser } from '../auth/context';

const SECTIONS = [
  { to: '/nodes', label: 'Nodes' },
  { to: '/dongles', label: 'Dongles' },
  { to: '/groups', label: 'Groups' },
  { to: '/my-devices', label: 'My Devices' },
];

const ADMIN_SECTIONS = [
  { to: '/admin/users', label: 'Users' },
  { to: '/admin/dongles', label: 'All dongles' },
  { to: '/admin/audit-log', label: 'Audit log' },
];

const linkClass = ({ isActive }: { isActive: boolean }) => (isActive ? 'nav-link active' : 'nav-link');

export function SideNav() {
  const user = useUser();
  return (
    <nav className="sidenav" aria-label="Main">
      <ul>
        {SECTIONS.map((section) => (
          <li key={section.to}>
            <NavLink to={section.to} className={linkClass}>
              {section.label}
            </NavLink>
          </li>
        ))}
      </ul>
      {user.role === 'super_admin' && (
        <div className="nav-group">
          <NavLink to="/admin" end className="nav-heading">
            Admin
          </NavLink>
          <ul>
            {ADMIN_SECTIONS.map((section) => (
              <li key={section.to}>
                <NavLink to={section.to} className={linkClass}>
                  {section.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </div>
      )}
    </nav>
  );
}
