import type { ErrorCode } from '@canopy/protocol';

/** A non-2xx answer from the Canopy API, carrying the standard error body. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, status: number, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** The server could not be reached: fetch threw, or a proxy in front of it answered for it. */
export class NetworkError extends Error {
  constructor(cause?: unknown) {
    super('network failure', { cause });
    this.name = 'NetworkError';
  }
}

export function isApiError(error: unknown, code?: ErrorCode): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
}
