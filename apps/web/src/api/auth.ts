import type { LoginRequest, SignupRequest, UserResponse } from '@canopy/protocol';
import { api } from './client';
import { clearCsrfToken } from './csrf';

/** The session cookie changes on these calls, and the CSRF token is bound to it. */
async function changingSession<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } finally {
    clearCsrfToken();
  }
}

export const authApi = {
  me: () => api.get<UserResponse>('/auth/me'),
  login: (body: LoginRequest) => changingSession(api.post<UserResponse>('/auth/login', body)),
  signup: (body: SignupRequest) => changingSession(api.post<UserResponse>('/auth/signup', body)),
  logout: () => changingSession(api.post('/auth/logout')),
  verifyEmail: (token: string) => api.post('/auth/verify-email', { token }),
  resendVerification: () => api.post('/auth/verify-email/resend'),
  requestPasswordReset: (email: string) => api.post('/auth/password-reset/request', { email }),
  /** A password change may end the user's other sessions, this one included. */
  confirmPasswordReset: (token: string, password: string) =>
    changingSession(api.post('/auth/password-reset/confirm', { token, password })),
};
