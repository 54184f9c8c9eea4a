/** The token store cannot give the token back; the message says what the user should do. */
export class CredentialError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialError';
  }
}

/**
 * The token is kept in the OS keychain, which does not answer now: on Linux at boot, before the user logs
 * in, there is no session bus yet or the keyring is still locked. Unlike the other credential errors this
 * one may pass by itself, so a daemon waits for it (waitForKeychain) instead of exiting.
 */
export class KeychainUnreachableError extends CredentialError {
  /** What the keychain said, e.g. "unlock prompt was dismissed"; never a secret. */
  readonly detail: string;

  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `the agent token is kept in the OS keychain, which cannot be reached now (${detail}): log in to this machine or unlock the keychain, or run \`CANOPY_NODE_CREDENTIAL_STORE=file canopy-node setup <KEY>\` to keep it in an encrypted file instead`,
      options,
    );
    this.name = 'KeychainUnreachableError';
    this.detail = detail;
  }
}
