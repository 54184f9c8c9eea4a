import { z } from 'zod';
import { Role, UserStatus } from './auth';

export const AdminUser = z.object({
  id: z.uuid(),
  email: z.string(),
  role: Role,
  status: UserStatus,
  email_verified: z.boolean(),
  created_at: z.string(),
});
export type AdminUser = z.infer<typeof AdminUser>;

/** Keyset paging: pass the previous page's `next_cursor` to get the next one. */
const Cursor = z.string().max(200).optional();
const Limit = z.coerce.number().int().min(1).max(200).default(50);

export const AdminUsersQuery = z.object({
  q: z.string().trim().max(254).optional(),
  cursor: Cursor,
  limit: Limit,
});
export type AdminUsersQuery = z.infer<typeof AdminUsersQuery>;

export const AdminUsersResponse = z.object({
  users: z.array(AdminUser),
  next_cursor: z.string().nullable(),
});
export type AdminUsersResponse = z.infer<typeof AdminUsersResponse>;

export const AuditLogEntry = z.object({
  id: z.uuid(),
  created_at: z.string(),
  action: z.string(),
  actor_user_id: z.uuid().nullable(),
  actor_email: z.string().nullable(),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditLogEntry = z.infer<typeof AuditLogEntry>;

export const AuditLogsQuery = z.object({
  action: z.string().trim().max(100).optional(),
  actor: z.string().trim().max(254).optional(),
  target: z.string().trim().max(200).optional(),
  cursor: Cursor,
  limit: Limit,
});
export type AuditLogsQuery = z.infer<typeof AuditLogsQuery>;

export const AuditLogsResponse = z.object({
  entries: z.array(AuditLogEntry),
  next_cursor: z.string().nullable(),
});
export type AuditLogsResponse = z.infer<typeof AuditLogsResponse>;
