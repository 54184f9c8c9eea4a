import { type CsrfResponse, ErrorCode } from '@canopy/protocol';
import { clearCsrfToken, csrfToken } from './csrf';
import { ApiError, NetworkError } from './errors';

const BASE = '/api/v1';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Answers a reverse proxy gives when the Canopy server behind it is down. */
const GATEWAY_STATUSES = new Set([502, 503, 504]);

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Query = Record<string, string | number | undefined>;

interface RequestOptions {
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
}

type SessionEndedListener = () => void;
const sessionEndedListeners = new Set<SessionEndedListener>();

/** Called whenever the server says the session is missing or expired, whichever request noticed. */
export function onSessionEnded(listener: SessionEndedListener): () => void {
  sessionEndedListeners.add(listener);
  return () => sessionEndedListeners.delete(listener);
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal }),
  post: <T = void>(path: string, body?: unknown) => request<T>('POST', path, { body }),
  put: <T = void>(path: string, body?: unknown) => request<T>('PUT', path, { body }),
  patch: <T = void>(path: string, body?: unknown) => request<T>('PATCH', path, { body }),
  delete: <T = void>(path: string) => request<T>('DELETE', path, {}),
};

async function request<T>(method: Method, path: string, options: RequestOptions): Promise<T> {
  if (!UNSAFE.has(method)) return send<T>(method, path, options);
  try {
    return await send<T>(method, path, options, await csrfToken(fetchCsrf));
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 'CSRF_INVALID')) throw error;
    clearCsrfToken();
    return send<T>(method, path, options, await csrfToken(fetchCsrf));
  }
}

function fetchCsrf(): Promise<CsrfResponse> {
  return send<CsrfResponse>('GET', '/auth/csrf', {});
}

async function send<T>(method: Method, path: string, options: RequestOptions, csrf?: string): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (csrf !== undefined) headers['X-CSRF-Token'] = csrf;

  let response: Response;
  try {
    response = await fetch(url(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new NetworkError(error);
  }

  if (response.ok) {
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
  throw await toError(response);
}

function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const search = params.toString();
  return `${BASE}${path}${search ? `?${search}` : ''}`;
}

async function toError(response: Response): Promise<Error> {
  const body = await response.json().catch(() => null);
  const code = ErrorCode.safeParse(body?.code);
  if (!code.success) {
    if (GATEWAY_STATUSES.has(response.status)) return new NetworkError(`HTTP ${response.status}`);
    return new ApiError('INTERNAL_ERROR', response.status, `HTTP ${response.status} without an error body`);
  }
  const details = isRecord(body.details) ? body.details : {};
  const error = new ApiError(code.data, response.status, String(body.message ?? ''), details);
  if (error.code === 'AUTH_REQUIRED' || error.code === 'AUTH_SESSION_EXPIRED') {
    clearCsrfToken();
    for (const listener of sessionEndedListeners) listener();
  }
  return error;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
