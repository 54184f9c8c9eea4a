import type {
  AdminDonglesQuery,
  AdminDonglesResponse,
  AdminUser,
  AdminUsersResponse,
  AuditLogsResponse,
  OwnershipState,
} from '@canopy/protocol';
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
/** The admin dongle list is not paged: the server sends the 200 most recently changed. */
export const ADMIN_DONGLES_LIMIT = 200;

export const adminApi = {
  users: (filter: UserFilter, cursor: string | undefined, signal?: AbortSignal) =>
    api.get<AdminUsersResponse>('/admin/users', { ...filter, cursor, limit: PAGE_SIZE }, signal),
  disableUser: (id: string) =>
    api.post<{ user: AdminUser }>(`/admin/users/${encodeURIComponent(id)}/disable`),
  enableUser: (id: string) => api.post<{ user: AdminUser }>(`/admin/users/${encodeURIComponent(id)}/enable`),
  auditLogs: (filter: AuditFilter, cursor: string | undefined, signal?: AbortSignal) =>
    api.get<AuditLogsResponse>('/admin/audit-logs', { ...filter, cursor, limit: PAGE_SIZE }, signal),
  /** Every dongle, newest change first; the server sends at most ADMIN_DONGLES_LIMIT. */
  dongles: (filter: AdminDonglesQuery, signal?: AbortSignal) =>
    api.get<AdminDonglesResponse>('/admin/dongles', { ...filter }, signal),
  /** Owner, token and any pairing cleared; also the way out of a security hold. */
  forceUnpair: (id: string) => api.post(`/admin/dongles/${encodeURIComponent(id)}/force-unpair`),
  clearHold: (id: string) =>
    api.post<{ dongle_id: string; ownership_state: OwnershipState }>(
      `/admin/dongles/${encodeURIComponent(id)}/clear-hold`,
    ),
};
