import type { ErrorCode, FieldIssue } from '@canopy/protocol';
import { ApiError, NetworkError } from './errors';

/**
 * Every sentence a user sees about a failure comes from this file. Components pass the error they
 * caught and show what comes back; they never show codes or the server's own message text.
 */
type Details = Record<string, unknown>;
type Sentence = string | ((details: Details) => string);

const SENTENCES: Record<ErrorCode, Sentence> = {
  AUTH_REQUIRED: 'Please log in to continue.',
  AUTH_INVALID_CREDENTIALS: 'Wrong email or password.',
  AUTH_SESSION_EXPIRED: 'Your session has expired. Please log in again.',
  AUTH_USER_DISABLED: 'This account has been disabled. Contact your administrator.',
  AUTH_EMAIL_TAKEN: 'An account with this email address already exists. Try logging in instead.',
  AUTH_TOKEN_INVALID: 'This link has expired or was already used.',
  CSRF_INVALID: 'Your session changed in another tab. Reload the page and try again.',
  FORBIDDEN: "You don't have permission to do that.",
  NOT_FOUND: "We couldn't find what you were looking for. It may have been removed.",
  CONFLICT: "That can't be done right now because it conflicts with the current state.",
  RATE_LIMITED: (details) => `Too many attempts. Try again ${retryAfter(details.retry_after_s)}.`,
  VALIDATION_ERROR: 'Some of the information is not valid. Check it and try again.',
  PAYLOAD_TOO_LARGE: 'That is too large to send.',
  UNSUPPORTED_MEDIA_TYPE: "The server didn't understand the request. Reload the page and try again.",
  SERVICE_UNAVAILABLE: 'Canopy is temporarily unavailable. Try again in a moment.',
  INTERNAL_ERROR: 'Something went wrong on our side. Try again in a moment.',
  DONGLE_NOT_FOUND: "We couldn't find that dongle. Check that it is powered on and on the same network.",
  DONGLE_OWNED_BY_OTHER: 'This dongle is already paired with another account.',
  PAIRING_PIN_INVALID: 'That PIN is not right. Check the PIN and try again.',
  PAIRING_SECURITY_HOLD: 'Pairing is on hold after too many wrong PINs. Wait a while before trying again.',
  AGENT_OFFLINE: 'The node is offline. Check that canopy-node is running and connected.',
  AGENT_TOKEN_INVALID: 'This node needs to be set up again with a new enrollment key.',
  AGENT_TOKEN_EXPIRED: 'The node must sign in again; it does so by itself.',
  AGENT_FINGERPRINT_MISMATCH: "This node's identity changed. Remove it and set it up again.",
  AGENT_QUEUE_FULL: 'Too many tasks are waiting for this node. Wait for it to catch up, then try again.',
  ENROLLMENT_KEY_INVALID: 'This enrollment key is not valid any more. Create a new one on the Nodes page.',
};

export const NETWORK_SENTENCE = "Can't reach the Canopy server. Check your connection.";

/** Sentences for situations the client notices itself, or for codes that mean more in one place. */
export const SITUATIONS = {
  passwordsDiffer: "The two passwords don't match.",
  linkIncomplete: 'This link is incomplete. Open the link from the email again, or ask for a new one.',
  disableSelf: "You can't disable your own account.",
  resetRequested: 'If an account exists for that address, we sent a link to reset the password.',
  verificationSent: (email: string) => `We sent a new link to ${email}.`,
  passwordChanged: 'Your password has been changed. You can now log in with the new password.',
  emailVerified: 'Your email address is verified. Thank you!',
  sessionEnded: 'Your session has ended. Please log in again.',
  adminOnly: 'Only administrators can see this page.',
  copyFailed: "Couldn't copy automatically. The text is selected: press Ctrl+C (⌘C on a Mac) to copy it.",
  nodeNotFound: "This node doesn't exist or was removed.",
  dongleNotFound: "This dongle isn't yours, and none of your nodes sees it now.",
  nameMissing: 'Enter a name for the node.',
  commandMissing: 'Enter the command to run.',
  pathMissing: 'Enter the path of a file on the node.',
  timeoutInvalid: 'Timeout must be a whole number of seconds from 1 to 3600.',
  taskRejected: "The node's owner rejected this task.",
  taskTimedOut: 'The task took too long and was stopped.',
  taskFailed: 'The task failed on the node.',
} as const;

/** The sentence for any error thrown by the API client (or anything else). */
export function errorMessage(error: unknown, overrides: Partial<Record<ErrorCode, string>> = {}): string {
  if (error instanceof NetworkError) return NETWORK_SENTENCE;
  if (!(error instanceof ApiError)) return SENTENCES.INTERNAL_ERROR as string;
  const sentence = overrides[error.code] ?? SENTENCES[error.code];
  return typeof sentence === 'function' ? sentence(error.details) : sentence;
}

const FIELD_LABELS: Record<string, string> = {
  email: 'Email',
  password: 'Password',
  confirm: 'Confirm password',
  q: 'Search',
  action: 'Action',
  actor: 'Actor',
  target: 'Target',
  label: 'Label',
  name: 'Name',
  'payload.command': 'Command',
  'payload.cwd': 'Working folder',
  'payload.timeout_ms': 'Timeout',
  'payload.path': 'Path',
  'payload.content': 'Content',
};

/** Server texts from the shared schemas that read better as a whole sentence. */
const FIELD_REWRITES: Record<string, string> = {
  'must be an email address': 'Enter a valid email address, like name@example.com.',
};

/** One field's problem as a sentence, e.g. "Password must be at least 10 characters." */
export function fieldSentence(issue: FieldIssue): string {
  const label = FIELD_LABELS[issue.path] ?? 'This field';
  const rewrite = FIELD_REWRITES[issue.message];
  if (rewrite) return rewrite;
  if (/^[a-z]/.test(issue.message)) return `${label} ${issue.message.replace(/\.$/, '')}.`;
  return `${label} is not valid.`;
}

/** For a VALIDATION_ERROR: the field path → sentence map to show next to each field. */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError) || error.code !== 'VALIDATION_ERROR') return {};
  const fields = Array.isArray(error.details.fields) ? error.details.fields : [];
  const result: Record<string, string> = {};
  for (const field of fields) {
    if (typeof field?.path !== 'string' || typeof field?.message !== 'string') continue;
    result[field.path] ??= fieldSentence(field);
  }
  return result;
}

function retryAfter(seconds: unknown): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) return 'later';
  if (seconds < 60) {
    const s = Math.ceil(seconds);
    return `in ${s} ${s === 1 ? 'second' : 'seconds'}`;
  }
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
}
