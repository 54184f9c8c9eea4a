import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The AES-256-GCM envelope of a dongle token at rest (spec 002 §20.3). Pure: no I/O besides the random nonce.
 * The stored ciphertext is the GCM output with its 16-byte tag appended; the AAD binds the record to its
 * dongle, its owner and its creation time, so a ciphertext copied onto another row does not open.
 */

/** A master key: 32 bytes and the version under which records sealed with it are stored. */
export type MasterKey = { readonly version: number; readonly bytes: Buffer };

/** What a `dongle_tokens` row stores. */
export type SealedToken = { keyVersion: number; nonce: Buffer; ciphertext: Buffer };

export type TokenAad = { dongleId: string; userId: string; createdAt: Date };

/** Anything that hands out a master key by version: a Keyring, or a Map in tests. */
export type KeyLookup = { get(version: number): MasterKey | undefined };

export type KeyErrorCode = 'TOKEN_DECRYPT_FAILED' | 'KEY_VERSION_MISSING';

/** A record that cannot be opened. Its message never holds key bytes, plaintext or ciphertext. */
export class KeyError extends Error {
  override name = 'KeyError';
  constructor(
    readonly code: KeyErrorCode,
    message: string,
    readonly keyVersion?: number,
  ) {
    super(message);
  }
}

const ALGORITHM = 'aes-256-gcm';
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/** `${dongleId}|${userId}|${createdAt ISO}`: the ids are UUIDs, so `|` cannot be ambiguous. */
export function aadBytes(aad: TokenAad): Buffer {
  if (Number.isNaN(aad.createdAt.getTime())) throw new TypeError('createdAt is not a valid date');
  return Buffer.from(`${aad.dongleId}|${aad.userId}|${aad.createdAt.toISOString()}`, 'utf8');
}

/** Encrypts with a fresh random nonce. The caller stores `createdAt` exactly as given (millisecond precision). */
export function seal(plaintext: Buffer, key: MasterKey, aad: TokenAad): SealedToken {
  checkKey(key);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key.bytes, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aadBytes(aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { keyVersion: key.version, nonce, ciphertext };
}

/** Decrypts and authenticates; anything wrong (key, nonce, ciphertext, tag, AAD) is a KeyError, never a partial result. */
export function open(record: SealedToken, keyring: KeyLookup, aad: TokenAad): Buffer {
  const key = keyring.get(record.keyVersion);
  if (!key) {
    throw new KeyError(
      'KEY_VERSION_MISSING',
      `no master key for key version ${record.keyVersion}`,
      record.keyVersion,
    );
  }
  const failed = () =>
    new KeyError(
      'TOKEN_DECRYPT_FAILED',
      `the token does not decrypt with key version ${record.keyVersion} (wrong key, altered record or different dongle, owner or creation time)`,
      record.keyVersion,
    );
  if (record.nonce.length !== NONCE_BYTES || record.ciphertext.length < TAG_BYTES) throw failed();
  let additional: Buffer;
  try {
    additional = aadBytes(aad);
    checkKey(key);
  } catch {
    throw failed();
  }
  const body = record.ciphertext.subarray(0, record.ciphertext.length - TAG_BYTES);
  const tag = record.ciphertext.subarray(record.ciphertext.length - TAG_BYTES);
  const decipher = createDecipheriv(ALGORITHM, key.bytes, record.nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(additional);
  decipher.setAuthTag(tag);
  const head = decipher.update(body);
  try {
    const plaintext = Buffer.concat([head, decipher.final()]);
    head.fill(0);
    return plaintext;
  } catch {
    // GCM hands out the unauthenticated plaintext before checking the tag: wipe it, return nothing.
    head.fill(0);
    throw failed();
  }
}

function checkKey(key: MasterKey): void {
  if (!Number.isInteger(key.version) || key.version < 1)
    throw new RangeError('key version must be an integer ≥ 1');
  if (key.bytes.length !== KEY_BYTES) throw new RangeError(`a master key must be ${KEY_BYTES} bytes`);
}
