/**
 * Mail links carry their token in the fragment (`/reset-password#token=…`) so it never reaches a
 * server log or a Referer header. Reading is pure so React may call it twice; stripping is separate.
 */
export function readMailToken(): string | null {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const token = params.get('token')?.trim();
  return token ? token : null;
}

/** Removes the token from the address bar (and so from history and bookmarks). */
export function stripMailToken(): void {
  if (!window.location.hash) return;
  const { pathname, search } = window.location;
  window.history.replaceState(window.history.state, '', `${pathname}${search}`);
}
