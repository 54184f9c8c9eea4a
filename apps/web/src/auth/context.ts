import type { LoginRequest, SignupRequest, User } from '@canopy/protocol';
import { createContext, useContext } from 'react';

export type AuthStatus =
  | { kind: 'loading' }
  | { kind: 'signed-in'; user: User }
  | { kind: 'signed-out'; notice: string | null }
  /** /auth/me failed for another reason than "not logged in": the server is down or broken. */
  | { kind: 'unknown'; error: string };

export interface Auth {
  status: AuthStatus;
  user: User | null;
  login(body: LoginRequest): Promise<void>;
  signup(body: SignupRequest): Promise<void>;
  logout(): Promise<void>;
  /** Asks the server again who is logged in, e.g. after the email was verified. */
  refresh(): Promise<void>;
}

export const AuthContext = createContext<Auth | null>(null);

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth must be used inside <AuthProvider>');
  return auth;
}

/** The logged-in user, for components that only render inside the authenticated shell. */
export function useUser(): User {
  const { user } = useAuth();
  if (!user) throw new Error('useUser must be used below <RequireAuth>');
  return user;
}
