import { z } from 'zod';

export const Role = z.enum(['user', 'super_admin']);
export type Role = z.infer<typeof Role>;

export const UserStatus = z.enum(['active', 'disabled']);
export type UserStatus = z.infer<typeof UserStatus>;

export const Email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ message: 'must be an email address' }))
  .transform((email) => email.toLowerCase());

/** Length limits only: long passphrases are welcome, and Argon2 has no 72-byte cut-off. */
export const Password = z
  .string()
  .min(10, { message: 'must be at least 10 characters' })
  .max(256, { message: 'must be at most 256 characters' });

export const User = z.object({
  id: z.uuid(),
  email: z.string(),
  role: Role,
  email_verified: z.boolean(),
});
export type User = z.infer<typeof User>;

export const SignupRequest = z.object({ email: Email, password: Password });
export type SignupRequest = z.infer<typeof SignupRequest>;

/** Login checks the password against the stored hash only, so it accepts any non-empty string. */
export const LoginRequest = z.object({ email: Email, password: z.string().min(1).max(256) });
export type LoginRequest = z.infer<typeof LoginRequest>;

export const UserResponse = z.object({ user: User });
export type UserResponse = z.infer<typeof UserResponse>;

export const CsrfResponse = z.object({ csrf_token: z.string() });
export type CsrfResponse = z.infer<typeof CsrfResponse>;

/** Tokens from mail links travel in the request body, never in a URL the server sees. */
const MailToken = z.string().min(20).max(200);

export const VerifyEmailRequest = z.object({ token: MailToken });
export type VerifyEmailRequest = z.infer<typeof VerifyEmailRequest>;

export const PasswordResetRequest = z.object({ email: Email });
export type PasswordResetRequest = z.infer<typeof PasswordResetRequest>;

export const PasswordResetConfirm = z.object({ token: MailToken, password: Password });
export type PasswordResetConfirm = z.infer<typeof PasswordResetConfirm>;
