import { describe, expect, it, vi } from 'vitest';
import { KeyError, type MasterKey, open, type SealedToken, seal, type TokenAad } from './envelope';

// Lets the known-answer test fix the nonce seal() draws; every other test gets real random bytes.
const nonce = vi.hoisted(() => ({ next: undefined as Buffer | undefined }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  const randomBytes = ((size: number) => {
    const fixed = nonce.next;
    nonce.next = undefined;
    return fixed ?? real.randomBytes(size);
  }) as typeof real.randomBytes;
  return { ...real, default: { ...real, randomBytes }, randomBytes };
});

const key = (version: number, fill: number): MasterKey => ({ version, bytes: Buffer.alloc(32, fill) });
const V1 = key(1, 0x11);
const V2 = key(2, 0x22);
const keys = (...list: MasterKey[]) => new Map(list.map((k) => [k.version, k]));

const aad: TokenAad = {
  dongleId: '0b6c1f64-7a3e-4d0c-9d44-3f1d2a5b6c7e',
  userId: '5f2d8e3a-1b4c-4e6f-8a9b-0c1d2e3f4a5b',
  createdAt: new Date('2024-05-06T07:08:09.123Z'),
};
const token = Buffer.from('a dongle token of thirty-two b!!');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KeyError);
    return (err as KeyError).code;
  }
  return undefined;
}

const flip = (buf: Buffer, index: number) => {
  const copy = Buffer.from(buf);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
};

describe('the dongle token envelope (AES-256-GCM)', () => {
  it('round-trips a token, with a fresh 12-byte nonce and the 16-byte tag appended', () => {
    const a = seal(token, V1, aad);
    const b = seal(token, V1, aad);
    expect(a.keyVersion).toBe(1);
    expect(a.nonce).toHaveLength(12);
    expect(a.ciphertext).toHaveLength(token.length + 16);
    expect(a.nonce.equals(b.nonce)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(open(a, keys(V1), aad).equals(token)).toBe(true);
    expect(open(seal(Buffer.alloc(0), V2, aad), keys(V1, V2), aad)).toHaveLength(0);
  });

  it('refuses a tampered ciphertext, tag or nonce with TOKEN_DECRYPT_FAILED', () => {
    const sealed = seal(token, V1, aad);
    const ring = keys(V1);
    expect(codeOf(() => open({ ...sealed, ciphertext: flip(sealed.ciphertext, 0) }, ring, aad))).toBe(
      'TOKEN_DECRYPT_FAILED',
    );
    const tagByte = sealed.ciphertext.length - 1;
    expect(codeOf(() => open({ ...sealed, ciphertext: flip(sealed.ciphertext, tagByte) }, ring, aad))).toBe(
      'TOKEN_DECRYPT_FAILED',
    );
    expect(codeOf(() => open({ ...sealed, nonce: flip(sealed.nonce, 5) }, ring, aad))).toBe(
      'TOKEN_DECRYPT_FAILED',
    );
    expect(codeOf(() => open({ ...sealed, ciphertext: sealed.ciphertext.subarray(0, 10) }, ring, aad))).toBe(
      'TOKEN_DECRYPT_FAILED',
    );
    expect(codeOf(() => open({ ...sealed, nonce: sealed.nonce.subarray(0, 11) }, ring, aad))).toBe(
      'TOKEN_DECRYPT_FAILED',
    );
  });

  it('refuses a record moved to another dongle, owner or creation time', () => {
    const sealed = seal(token, V1, aad);
    const ring = keys(V1);
    const other = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
    expect(codeOf(() => open(sealed, ring, { ...aad, dongleId: other }))).toBe('TOKEN_DECRYPT_FAILED');
    expect(codeOf(() => open(sealed, ring, { ...aad, userId: other }))).toBe('TOKEN_DECRYPT_FAILED');
    const later = new Date(aad.createdAt.getTime() + 1);
    expect(codeOf(() => open(sealed, ring, { ...aad, createdAt: later }))).toBe('TOKEN_DECRYPT_FAILED');
    expect(codeOf(() => open(sealed, ring, { ...aad, createdAt: new Date(Number.NaN) }))).toBe(
      'TOKEN_DECRYPT_FAILED',
    );
  });

  it('refuses the wrong key under the right version number', () => {
    const sealed = seal(token, V1, aad);
    expect(codeOf(() => open(sealed, keys(key(1, 0x12)), aad))).toBe('TOKEN_DECRYPT_FAILED');
  });

  it('says KEY_VERSION_MISSING for a version the keyring lacks', () => {
    const sealed = seal(token, V2, aad);
    let error: KeyError | undefined;
    try {
      open(sealed, keys(V1), aad);
    } catch (err) {
      error = err as KeyError;
    }
    expect(error?.code).toBe('KEY_VERSION_MISSING');
    expect(error?.keyVersion).toBe(2);
  });

  it('never puts key bytes, plaintext or ciphertext in its errors', () => {
    const sealed = seal(token, V1, aad);
    const messages: string[] = [];
    for (const attempt of [
      () => open({ ...sealed, ciphertext: flip(sealed.ciphertext, 3) }, keys(V1), aad),
      () => open(sealed, keys(key(1, 0x99)), aad),
      () => open({ ...sealed, keyVersion: 7 }, keys(V1), aad),
    ]) {
      try {
        attempt();
      } catch (err) {
        messages.push(`${(err as Error).message} ${(err as Error).stack} ${JSON.stringify(err)}`);
      }
    }
    expect(messages).toHaveLength(3);
    for (const text of messages) {
      for (const secret of [V1.bytes, token, sealed.ciphertext]) {
        expect(text).not.toContain(secret.toString('hex'));
        expect(text).not.toContain(secret.toString('base64'));
      }
      expect(text).not.toContain(token.toString('utf8'));
    }
  });

  it('refuses to seal with a key that is not 32 bytes', () => {
    expect(() => seal(token, { version: 1, bytes: Buffer.alloc(16) }, aad)).toThrow(/32 bytes/);
    expect(() => seal(token, { version: 0, bytes: Buffer.alloc(32) }, aad)).toThrow(/version/);
  });

  // Known answer computed independently with Python's `cryptography` package (OpenSSL underneath, not Node):
  //   AESGCM(bytes(range(32))).encrypt(bytes.fromhex('cafebabefacedbaddecaf888'),
  //     b'canopy dongle token: 0123456789abcdef',
  //     b'0b6c1f64-7a3e-4d0c-9d44-3f1d2a5b6c7e|5f2d8e3a-1b4c-4e6f-8a9b-0c1d2e3f4a5b|2024-05-06T07:08:09.123Z').hex()
  it('matches a known-answer vector in both directions', () => {
    const vectorKey: MasterKey = { version: 1, bytes: Buffer.from(Array.from({ length: 32 }, (_, i) => i)) };
    const vectorNonce = Buffer.from('cafebabefacedbaddecaf888', 'hex');
    const plaintext = Buffer.from('canopy dongle token: 0123456789abcdef');
    const expected = Buffer.from(
      'e9c2ce49da036f7f29653ab11e3dfd506645ae6bff295b467deb314789b15c9ecf33a523a71a483eac4aeb7d1019b1a6832af54c52',
      'hex',
    );
    const record: SealedToken = { keyVersion: 1, nonce: vectorNonce, ciphertext: expected };
    expect(open(record, keys(vectorKey), aad).equals(plaintext)).toBe(true);
    nonce.next = vectorNonce;
    const sealed = seal(plaintext, vectorKey, aad);
    expect(sealed.nonce.equals(vectorNonce)).toBe(true);
    expect(sealed.ciphertext.toString('hex')).toBe(expected.toString('hex'));
  });
});
