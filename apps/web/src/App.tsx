import { Navigate, Route, Routes } from 'react-router';
import { AdminDonglesPage } from './admin/AdminDonglesPage';
import { AuditLogPage } from './admin/AuditLogPage';
import { RequireAdmin } from './admin/RequireAdmin';
import { UsersPage } from './admin/UsersPage';
import { RequireAuth } from './auth/RequireAuth';
import { DonglePage } from './dongles/DonglePage';
import { DonglesPage } from './dongles/DonglesPage';
import { GroupPage } from './groups/GroupPage';
import { GroupsPage } from './groups/GroupsPage';
import { NodePage } from './nodes/NodePage';
import { NodesPage } from './nodes/NodesPage';
import { ForgotPasswordPage } from './pages/ForgotPasswordPage';
import { LoginPage } from './pages/LoginPage';
import { MyDevicesPage } from './pages/MyDevicesPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { ResetPasswordPage } from './pages/ResetPasswordPage';
import { SignupPage } from './pages/SignupPage';
import { VerifyEmailPage } from './pages/VerifyEmailPage';
import { Shell } from './shell/Shell';

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/signup" element={<SignupPage />} />
      <Route path="/forgot-password" element={<ForgotPasswordPage />} />
      <Route path="/reset-password" element={<ResetPasswordPage />} />
      <Route path="/verify-email" element={<VerifyEmailPage />} />

      <Route element={<RequireAuth />}>
        <Route element={<Shell />}>
          <Route index element={<Navigate to="/nodes" replace />} />
          <Route path="nodes" element={<NodesPage />} />
          <Route path="nodes/:id" element={<NodePage />} />
          <Route path="dongles" element={<DonglesPage />} />
          <Route path="dongles/:id" element={<DonglePage />} />
          <Route path="groups" element={<GroupsPage />} />
          <Route path="groups/:id" element={<GroupPage />} />
          <Route path="my-devices" element={<MyDevicesPage />} />
          <Route path="admin" element={<RequireAdmin />}>
            <Route index element={<Navigate to="/admin/users" replace />} />
            <Route path="users" element={<UsersPage />} />
            <Route path="dongles" element={<AdminDonglesPage />} />
            <Route path="audit-log" element={<AuditLogPage />} />
          </Route>
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Route>
    </Routes>
  );
}
