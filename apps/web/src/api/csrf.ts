import type { CsrfResponse } from '@canopy/protocol';

/**
 * The CSRF token is bound to the session cookie, so it is fetched once and reused until the
 * session changes (login, signup, logout) or the server rejects it.
 */
let pending: Promise<string> | null = null;

export function csrfToken(fetchToken: () => Promise<CsrfResponse>): Promise<string> {
  if (!pending) {
    const request = fetchToken().then((body) => body.csrf_token);
    pending = request;
    request.catch(() => {
      if (pending === request) pending = null;
    });
  }
  return pending;
}

export function clearCsrfToken(): void {
  pending = null;
}
