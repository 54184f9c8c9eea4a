import type { LoginRequest, SignupRequest } from '@canopy/protocol';
import { type ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import { authApi } from '../api/auth';
import { onSessionEnded } from '../api/client';
import { isApiError } from '../api/errors';
import { errorMessage, SITUATIONS } from '../api/messages';
import { type Auth, AuthContext, type AuthStatus } from './context';

/** Knows who is logged in: asks /auth/me on start and follows login, signup, logout and expiry. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<AuthStatus>({ kind: 'loading' });

  const refresh = useCallback(async () => {
    try {
      const { user } = await authApi.me();
      setStatus({ kind: 'signed-in', user });
    } catch (error) {
      if (isApiError(error) && error.status === 401) setStatus({ kind: 'signed-out', notice: null });
      else setStatus({ kind: 'unknown', error: errorMessage(error) });
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  useEffect(
    () =>
      onSessionEnded(() =>
        setStatus((current) =>
          current.kind === 'signed-in' ? { kind: 'signed-out', notice: SITUATIONS.sessionEnded } : current,
        ),
      ),
    [],
  );

  const login = useCallback(async (body: LoginRequest) => {
    const { user } = await authApi.login(body);
    setStatus({ kind: 'signed-in', user });
  }, []);

  const signup = useCallback(async (body: SignupRequest) => {
    const { user } = await authApi.signup(body);
    setStatus({ kind: 'signed-in', user });
  }, []);

  const logout = useCallback(async () => {
    try {
      await authApi.logout();
    } catch (error) {
      // Already logged out on the server is as good as logged out; anything else is worth telling.
      if (!isApiError(error, 'AUTH_REQUIRED') && !isApiError(error, 'AUTH_SESSION_EXPIRED')) throw error;
    }
    setStatus({ kind: 'signed-out', notice: null });
  }, []);

  const auth = useMemo<Auth>(
    () => ({
      status,
      user: status.kind === 'signed-in' ? status.user : null,
      login,
      signup,
      logout,
      refresh,
    }),
    [status, login, signup, logout, refresh],
  );

  return <AuthContext.Provider value={auth}>{children}</AuthContext.Provider>;
}
