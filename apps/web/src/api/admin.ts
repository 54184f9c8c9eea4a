import type { AdminUser, AdminUsersResponse, AuditLogsResponse } from '@canopy/protocol';
import { api } from './client';

export interface UserFilter {
  q?: string;
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  target?: string;
}

const PAGE_SIZE = 50;

export const adminApi = {
  users: (filter: UserFilter, cursor: string | undefined, signal?: AbortSignal) =>
    api.get<AdminUsersResponse>('/admin/users', { ...filter, cursor, limit: PAGE_SIZE }, signal),
  disableUser: (id: string) =>
    api.post<{ user: AdminUser }>(`/admin/users/${encodeURIComponent(id)}/disable`),
  enableUser: (id: string) => api.post<{ user: AdminUser }>(`/admin/users/${encodeURIComponent(id)}/enable`),
  auditLogs: (filter: AuditFilter, cursor: string | undefined, signal?: AbortSignal) =>
    api.get<AuditLogsResponse>('/admin/audit-logs', { ...filter, cursor, limit: PAGE_SIZE }, signal),
};
