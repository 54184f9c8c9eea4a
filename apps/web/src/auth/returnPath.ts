const DEFAULT_PATH = '/nodes';
const AUTH_PATHS = new Set(['/login', '/signup']);

interface FromState {
  from?: { pathname?: string; search?: string; hash?: string };
}

/** Where to go after logging in: the page that sent the user to /login, or the Nodes page. */
export function returnPath(state: unknown): string {
  const from = (state as FromState | null)?.from;
  if (!from?.pathname || AUTH_PATHS.has(from.pathname)) return DEFAULT_PATH;
  return `${from.pathname}${from.search ?? ''}${from.hash ?? ''}`;
}
