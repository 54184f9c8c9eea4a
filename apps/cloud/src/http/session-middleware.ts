import { parse as parseCookies } from 'cookie';
import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import { deriveSecret, newSecret, safeEqual } from '../accounts/secrets';
import type { SessionStore, SessionUser } from '../accounts/sessions';
import type { AuditActor } from '../audit/writer';
import { ApiError } from './errors';

export const SESSION_COOKIE = 'canopy_session';
/** Before login the CSRF token is bound to this anonymous cookie instead of a session. */
export const PRESESSION_COOKIE = 'canopy_presession';
const CSRF_PURPOSE = 'canopy-csrf-v1';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare global {
  namespace Express {
    interface Request {
      cookies?: Record<string, string | undefined>;
      user?: SessionUser;
      sessionId?: string;
      /** Why there is no user although a session cookie came: drives AUTH_SESSION_EXPIRED. */
      sessionProblem?: 'expired' | 'unknown';
    }
  }
}

export function cookieOptions(req: Request, publicUrl: string, maxAgeMs?: number): CookieOptions {
  return {
    httpOnly: true,
    sameSite: 'lax',
    secure: req.secure || publicUrl.startsWith('https:'),
    path: '/',
    ...(maxAgeMs ? { maxAge: maxAgeMs } : {}),
  };
}

/** Resolves the session cookie to `req.user`; a stale cookie is cleared. */
export function loadSession(sessions: SessionStore, publicUrl: string): RequestHandler {
  return async (req, res, next) => {
    req.cookies = parseCookies(req.headers.cookie ?? '');
    const token = req.cookies[SESSION_COOKIE];
    if (!token) return next();
    const found = await sessions.resolve(token);
    if (found.kind === 'ok') {
      req.user = found.user;
      req.sessionId = found.sessionId;
    } else {
      req.sessionProblem = found.kind === 'expired' ? 'expired' : 'unknown';
      res.clearCookie(SESSION_COOKIE, cookieOptions(req, publicUrl));
    }
    next();
  };
}

/** The CSRF token for this request's cookie: HMAC(cookie token, purpose), so it needs no storage. */
export function csrfTokenFor(req: Request, res: Response, publicUrl: string): string {
  const bound = (req.user && req.cookies?.[SESSION_COOKIE]) || req.cookies?.[PRESESSION_COOKIE];
  if (bound) return deriveSecret(bound, CSRF_PURPOSE);
  const fresh = newSecret();
  res.cookie(PRESESSION_COOKIE, fresh, cookieOptions(req, publicUrl));
  return deriveSecret(fresh, CSRF_PURPOSE);
}

/**
 * Requires X-CSRF-Token on unsafe methods (spec 002 §8.2). Node endpoints (bearer tokens, no cookies) are
 * mounted before this and never reach it.
 */
export const requireCsrf: RequestHandler = (req, _res, next) => {
  if (!UNSAFE.has(req.method)) return next();
  const header = req.get('x-csrf-token') ?? '';
  const candidates = [
    req.user ? req.cookies?.[SESSION_COOKIE] : undefined,
    req.cookies?.[PRESESSION_COOKIE],
  ].filter((c): c is string => !!c);
  if (header && candidates.some((c) => safeEqual(deriveSecret(c, CSRF_PURPOSE), header))) return next();
  next(
    new ApiError(403, 'CSRF_INVALID', 'Missing or invalid CSRF token; fetch one from GET /api/v1/auth/csrf', {
      header: 'X-CSRF-Token',
    }),
  );
};

export const requireUser: RequestHandler = (req, _res, next) => {
  if (req.user) return next();
  if (req.sessionProblem === 'expired') {
    return next(new ApiError(401, 'AUTH_SESSION_EXPIRED', 'Your session has expired; log in again'));
  }
  next(new ApiError(401, 'AUTH_REQUIRED', 'Log in to use this'));
};

export const requireSuperAdmin: RequestHandler = (req, res, next) =>
  requireUser(req, res, (err?: unknown) => {
    if (err) return next(err);
    if (req.user?.role !== 'super_admin') {
      return next(new ApiError(403, 'FORBIDDEN', 'This needs the super_admin role'));
    }
    next();
  });

export function auditActor(req: Request): AuditActor {
  return { actorUserId: req.user?.id ?? null, ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
}

/** The logged-in user of a request that passed requireUser. */
export function userOf(req: Request): SessionUser {
  if (!req.user) throw new ApiError(401, 'AUTH_REQUIRED', 'Log in to use this');
  return req.user;
}
