import type { ErrorBody, ErrorCode } from '@canopy/protocol';
import { fieldIssues } from '@canopy/protocol';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';

/** An error the API answers with as-is: the status, a code from the protocol enum, a sentence and details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what = 'Resource'): ApiError => new ApiError(404, 'NOT_FOUND', `${what} not found`);

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'NOT_FOUND', `No route for ${req.method} ${req.originalUrl.split('?')[0]}`));
};

/** Maps anything thrown in a handler to the standard error body; unexpected errors are logged, never echoed. */
export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const apiError = toApiError(err);
  if (apiError.status >= 500) req.log.error({ err }, 'request failed');
  else req.log.info({ code: apiError.code, status: apiError.status }, apiError.message);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body: ErrorBody = { code: apiError.code, message: apiError.message, details: apiError.details };
  res.status(apiError.status).set(apiError.headers).json(body);
};

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ZodError) {
    return new ApiError(400, 'VALIDATION_ERROR', 'The request is not valid', { fields: fieldIssues(err) });
  }
  // body-parser marks its errors with `type` and an HTTP status.
  const e = err as { type?: string; status?: number; limit?: number };
  switch (e?.type) {
    case 'entity.parse.failed':
      return new ApiError(400, 'VALIDATION_ERROR', 'The request body is not valid JSON', {
        fields: [{ path: '(body)', message: 'malformed JSON' }],
      });
    case 'entity.too.large':
      return new ApiError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large', {
        limit_bytes: e.limit,
      });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'The request body encoding is not supported');
  }
  if (e?.status === 404) return notFound();
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new ApiError(e.status, 'VALIDATION_ERROR', 'The request could not be read');
  }
  return new ApiError(500, 'INTERNAL_ERROR', 'Something went wrong on our side; it has been logged');
}
