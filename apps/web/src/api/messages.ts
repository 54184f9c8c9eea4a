import type { ErrorCode, FieldIssue } from '@canopy/protocol';
import { ApiError, NetworkError } from './errors';

/**
 * Every sentence a user sees about a failure comes from this file. Components pass the error they
 * caught and show what comes back; they never show codes or the server's own message text.
 */
type Details = Record<string, unknown>;
type Sentence = string | ((details: Details) => string);

/** The words the spec (002 §11.3) has the dashboard show for a dongle on hold. */
const SECURITY_HOLD = 'Security hold — contact support.';
const DONGLE_RESET = 'This dongle was reset and no longer knows its Canopy token. Pair it again.';
const PAIRING_ENDED = 'Pairing mode ended. Start again.';
const SAME_DONGLE = 'Choose two different dongles: one for each side.';

/** GROUP_CONFLICT says which group rule the request broke in `details.reason`. */
const GROUP_CONFLICTS: Record<string, string> = {
  same_dongle: SAME_DONGLE,
  not_owned: 'Both dongles must be paired with your account. Pair them on the Dongles page first.',
  not_active:
    'One of the dongles needs attention first (it is on security hold, or was reset and must be paired again). Check it on the Dongles page.',
  in_another_group: 'One of the dongles is already in another group. A dongle can be in one group at a time.',
};
const GROUP_CONFLICT_OTHER =
  "That can't be done right now because it conflicts with the group's current state.";

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
  CONFLICT: (details) => {
    // A dongle action refused because of the dongle's ownership state says which one.
    if (details.ownership_state === 'RESET_DETECTED') return DONGLE_RESET;
    if (details.ownership_state === 'SECURITY_HOLD') return SECURITY_HOLD;
    return "That can't be done right now because it conflicts with the current state.";
  },
  RATE_LIMITED: (details) => `Too many attempts. Try again ${retryAfter(details.retry_after_s)}.`,
  VALIDATION_ERROR: 'Some of the information is not valid. Check it and try again.',
  PAYLOAD_TOO_LARGE: 'That is too large to send.',
  UNSUPPORTED_MEDIA_TYPE: "The server didn't understand the request. Reload the page and try again.",
  SERVICE_UNAVAILABLE: 'Canopy is temporarily unavailable. Try again in a moment.',
  INTERNAL_ERROR: 'Something went wrong on our side. Try again in a moment.',
  DONGLE_NOT_FOUND: "We couldn't find that dongle. Check that it is powered on and on the same network.",
  DONGLE_OWNED_BY_OTHER: 'This dongle is already paired with another account.',
  PAIRING_PIN_INVALID: (details) => `That PIN doesn't match — ${triesLeft(details.attempts_left)}.`,
  PAIRING_SECURITY_HOLD: SECURITY_HOLD,
  PAIRING_SESSION_INVALID: PAIRING_ENDED,
  PAIRING_IN_PROGRESS: 'That PIN is still being checked. Wait a moment, then try again.',
  PAIRING_COOLDOWN: (details) =>
    `The dongle is locked after wrong PINs. Try again ${retryAfter(details.retry_after_s)}.`,
  PAIRING_REFUSED: 'The dongle turned down pairing. Start again.',
  DONGLE_TIMEOUT: "The dongle didn't answer in time. Check that it is powered, then try again.",
  GROUP_NOT_FOUND: "We couldn't find that group. It may have been deleted.",
  GROUP_CONFLICT: (details) => GROUP_CONFLICTS[String(details.reason)] ?? GROUP_CONFLICT_OTHER,
  AGENT_OFFLINE:
    'None of your nodes can reach this dongle right now. Check that it is powered and that canopy-node is running on its network.',
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
  adminDongleGone: 'Canopy has no record of this dongle any more. Reload the page.',
  nameMissing: 'Enter a name for the node.',
  commandMissing: 'Enter the command to run.',
  pathMissing: 'Enter the path of a file on the node.',
  timeoutInvalid: 'Timeout must be a whole number of seconds from 1 to 3600.',
  taskRejected: "The node's owner rejected this task.",
  taskTimedOut: 'The task took too long and was stopped.',
  taskFailed: 'The task failed on the node.',
  dongleHoldWhy:
    'Canopy stopped pairing and every action on this dongle to protect it, for example after too many wrong PINs. Only Canopy support can release it.',
  dongleReset: DONGLE_RESET,
  paired: 'Paired. This dongle is yours now.',
  tooManyPins: 'Too many wrong PINs: this dongle is on security hold. Contact support.',
  pairingEnded: PAIRING_ENDED,
  pinIncomplete: 'Enter all 6 digits of the PIN.',
  unpaired: 'Unpaired. Pair it again with its PIN to use it from Canopy.',
  configRejected: 'The dongle rejected this configuration.',
  configNotApplied: 'The dongle could not apply it.',
  numberRange: (label: string, min: number, max: number) =>
    `${label} must be a whole number from ${min} to ${max}.`,
  bitrateUnknown: 'Choose one of the listed bitrates.',
  sjwAboveTseg2: 'SJW must not be larger than TSEG2.',
  commandTimedOut: "The dongle didn't finish this command in time.",
  commandFailed: 'The command failed.',
  groupNotFound: "This group doesn't exist any more, or it isn't yours.",
  groupNameMissing: 'Enter a name for the group.',
  groupSideMissing: (side: string) => `Choose the dongle for side ${side}.`,
  groupSameDongle: SAME_DONGLE,
  groupDeleted: 'Group deleted. Both dongles are free for another group.',
  canIdMissing: 'Enter the CAN id, e.g. 7DF.',
  canIdNotHex: 'The CAN id is hexadecimal: digits 0–9 and letters A–F, e.g. 7DF or 0x7DF.',
  canIdTooLarge: 'The CAN id can be at most 1FFFFFFF (29 bits).',
  canDataNotHex: 'The data is hexadecimal bytes: digits 0–9 and letters A–F, e.g. 02 01 0D.',
  canDataHalfByte: 'The data needs two hex digits for each byte, e.g. 02 01 0D.',
  canDataTooLong: 'A CAN frame carries at most 8 bytes of data.',
  groupInactiveSend: 'Activate the group to send frames through it.',
} as const;

/** The sentence for an error code in a situation the client knows without a request, e.g. a disabled button. */
export function codeSentence(code: ErrorCode, details: Details = {}): string {
  const sentence = SENTENCES[code];
  return typeof sentence === 'function' ? sentence(details) : sentence;
}

/** The sentence for any error thrown by the API client (or anything else). */
export function errorMessage(error: unknown, overrides: Partial<Record<ErrorCode, string>> = {}): string {
  if (error instanceof NetworkError) return NETWORK_SENTENCE;
  if (!(error instanceof ApiError)) return SENTENCES.INTERNAL_ERROR as string;
  return overrides[error.code] ?? codeSentence(error.code, error.details);
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
  pin: 'PIN',
  command: 'Command',
  bitrate: 'Bitrate',
  sample_point_permille: 'Sample point',
  mode: 'Mode',
  prescaler: 'Prescaler',
  sjw: 'SJW',
  tseg1: 'TSEG1',
  tseg2: 'TSEG2',
  dongle_a_id: 'Side A',
  dongle_b_id: 'Side B',
  to: 'Side',
  'frames.0.id': 'CAN id',
  'frames.0.data': 'Data',
};

/** Server texts from the shared schemas that read better as a whole sentence. */
const FIELD_REWRITES: Record<string, string> = {
  'must be an email address': 'Enter a valid email address, like name@example.com.',
  'must be a CAN id in hex, e.g. 0x7DF': SITUATIONS.canIdNotHex,
  'must be 0 to 8 bytes in hex, e.g. 02010C': 'The data is 0 to 8 bytes in hex, e.g. 02 01 0D.',
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

function triesLeft(left: unknown): string {
  if (typeof left !== 'number' || !Number.isInteger(left) || left < 0) return 'check it and try again';
  return `${left} ${left === 1 ? 'try' : 'tries'} left`;
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
