import {
  CsrfResponse,
  LoginRequest,
  PasswordResetConfirm,
  PasswordResetRequest,
  SignupRequest,
  UserResponse,
  VerifyEmailRequest,
} from '@canopy/protocol';
import { type Request, type Response, Router } from 'express';
import {
  auditActor,
  cookieOptions,
  csrfTokenFor,
  PRESESSION_COOKIE,
  requireUser,
  SESSION_COOKIE,
  userOf,
} from '../http/session-middleware';
import { parse } from '../http/validate';
import { type Accounts, toUser } from './accounts';
import type { SessionStore } from './sessions';

/** /api/v1/auth (spec 002 §17.3 Auth). */
export function authRoutes(
  accounts: Accounts,
  sessions: SessionStore,
  publicUrl: string,
  sessionTtlMs: number,
) {
  const router = Router();

  const startSession = (req: Request, res: Response, token: string) => {
    res.cookie(SESSION_COOKIE, token, cookieOptions(req, publicUrl, sessionTtlMs));
    res.clearCookie(PRESESSION_COOKIE, cookieOptions(req, publicUrl));
  };

  router.get('/csrf', (req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json(CsrfResponse.parse({ csrf_token: csrfTokenFor(req, res, publicUrl) }));
  });

  router.post('/signup', async (req, res) => {
    const input = parse(SignupRequest, req.body);
    const { user, session } = await accounts.signup(input, auditActor(req));
    startSession(req, res, session.token);
    req.log.info({ user_id: user.id }, 'signed up');
    res.status(201).json(UserResponse.parse({ user: toUser(user) }));
  });

  router.post('/login', async (req, res) => {
    const input = parse(LoginRequest, req.body);
    const { user, session } = await accounts.login(input, auditActor(req));
    // A new session id at every login: a session fixed before login is worthless.
    if (req.sessionId) await sessions.destroy(req.sessionId);
    startSession(req, res, session.token);
    req.log.info({ user_id: user.id }, 'logged in');
    res.json(UserResponse.parse({ user: toUser(user) }));
  });

  router.post('/logout', async (req, res) => {
    if (req.sessionId) await sessions.destroy(req.sessionId);
    res.clearCookie(SESSION_COOKIE, cookieOptions(req, publicUrl));
    res.status(204).end();
  });

  router.get('/me', requireUser, (req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json(UserResponse.parse({ user: toUser(userOf(req)) }));
  });

  router.post('/verify-email', async (req, res) => {
    const { token } = parse(VerifyEmailRequest, req.body);
    await accounts.verifyEmail(token, auditActor(req));
    res.status(204).end();
  });

  router.post('/verify-email/resend', requireUser, async (req, res) => {
    await accounts.resendVerification(userOf(req));
    res.status(202).end();
  });

  router.post('/password-reset/request', async (req, res) => {
    const { email } = parse(PasswordResetRequest, req.body);
    await accounts.requestPasswordReset(email, auditActor(req));
    res.status(202).end();
  });

  router.post('/password-reset/confirm', async (req, res) => {
    const { token, password } = parse(PasswordResetConfirm, req.body);
    await accounts.confirmPasswordReset(token, password, auditActor(req));
    res.status(204).end();
  });

  return router;
}
