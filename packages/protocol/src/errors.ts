import { z } from 'zod';

/** Every API error code (spec 002 §17.2). User-facing sentences are mapped from these in one place in the web app. */
export const ErrorCode = z.enum([
  'AUTH_REQUIRED',
  'AUTH_INVALID_CREDENTIALS',
  'AUTH_SESSION_EXPIRED',
  'AUTH_USER_DISABLED',
  'AUTH_EMAIL_TAKEN',
  'AUTH_TOKEN_INVALID',
  'CSRF_INVALID',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'VALIDATION_ERROR',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
  'DONGLE_NOT_FOUND',
  'DONGLE_OWNED_BY_OTHER',
  'PAIRING_PIN_INVALID',
  'PAIRING_SECURITY_HOLD',
  'PAIRING_SESSION_INVALID',
  'PAIRING_IN_PROGRESS',
  'PAIRING_COOLDOWN',
  'PAIRING_REFUSED',
  'DONGLE_TIMEOUT',
  'GROUP_NOT_FOUND',
  'GROUP_CONFLICT',
  'AGENT_OFFLINE',
  'AGENT_TOKEN_INVALID',
  'AGENT_TOKEN_EXPIRED',
  'AGENT_FINGERPRINT_MISMATCH',
  'AGENT_QUEUE_FULL',
  'ENROLLMENT_KEY_INVALID',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The standard error body: every non-2xx response of the API has this shape. */
export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  details: z.record(z.string(), z.unknown()).default({}),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** `details.fields` of a VALIDATION_ERROR: one entry per offending field. */
export const FieldIssue = z.object({ path: z.string(), message: z.string() });
export type FieldIssue = z.infer<typeof FieldIssue>;

/** Turns a zod error into the field list carried by VALIDATION_ERROR. */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.join('.') : '(body)',
    message: issue.message,
  }));
}
