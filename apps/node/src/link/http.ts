import { ErrorBody, type ErrorCode, FINGERPRINT_HEADER } from '@canopy/protocol';
import { type Clock, DeadlineError, deadline } from './clock';
import type { Fetch } from './fetch';

/** A failed request to the cloud: `status` null when no answer came (network, timeout). */
export class CloudRequestError extends Error {
  override name = 'CloudRequestError';

  constructor(
    message: string,
    readonly status: number | null,
    readonly code: ErrorCode | null,
  ) {
    super(message);
  }

  /** The cloud answered that this request can never succeed as sent (retrying would not help). */
  get permanent(): boolean {
    return (
      this.status !== null &&
      this.status >= 400 &&
      this.status < 500 &&
      ![401, 408, 429].includes(this.status)
    );
  }
}

export type CloudHttpOptions = {
  /** http(s)://host:port/api/v1 */
  apiBase: string;
  fingerprint: string;
  clock: Clock;
  fetch: Fetch;
};

export type CloudRequest = {
  method: 'GET' | 'POST';
  /** Below the API base, e.g. `/agents/heartbeat`. */
  path: string;
  token: string;
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
};

/** One JSON request to the cloud API; resolves to the parsed body (null when empty), throws CloudRequestError. */
export async function cloudRequest(options: CloudHttpOptions, request: CloudRequest): Promise<unknown> {
  const { signal, dispose } = deadline(options.clock, request.timeoutMs, request.signal);
  const headers: Record<string, string> = {
    authorization: `Bearer ${request.token}`,
    [FINGERPRINT_HEADER]: options.fingerprint,
    accept: 'application/json',
  };
  // Express' JSON parser wants a body whenever content-type says JSON, so POSTs always carry one.
  const body = request.method === 'POST' ? JSON.stringify(request.body ?? {}) : undefined;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const label = `${request.method} ${request.path.split('?')[0]}`;
  try {
    const response = await options.fetch(`${options.apiBase}${request.path}`, {
      method: request.method,
      headers,
      body,
      signal,
    });
    const text = await response.text();
    if (!response.ok) throw errorFromResponse(label, response.status, text);
    if (text.trim() === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new CloudRequestError(`${label}: the answer is not JSON`, response.status, null);
    }
  } catch (err) {
    if (err instanceof CloudRequestError) throw err;
    throw new CloudRequestError(`${label}: ${describeFailure(err, signal)}`, null, null);
  } finally {
    dispose();
  }
}

function errorFromResponse(label: string, status: number, text: string): CloudRequestError {
  let parsed: ErrorBody | null = null;
  try {
    const result = ErrorBody.safeParse(JSON.parse(text));
    if (result.success) parsed = result.data;
  } catch {
    // Not the standard body (a proxy's page): the status alone will do.
  }
  const what = parsed ? `${parsed.code}: ${parsed.message}` : 'no error body';
  return new CloudRequestError(`${label}: HTTP ${status} (${what})`, status, parsed?.code ?? null);
}

function describeFailure(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof DeadlineError) return reason.message;
    return 'cancelled';
  }
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    // undici reports "fetch failed" and hides the useful part (ECONNREFUSED, ENOTFOUND…) in `cause`.
    if (cause instanceof Error && cause.message) return cause.message;
    return err.message;
  }
  return String(err);
}

/** The message of anything thrown, for logs and status. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
