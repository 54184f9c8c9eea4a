import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readEncryptedFile, writeEncryptedFile } from '../credential/encrypted-file';
import { machineId } from '../system/machine-id';

/**
 * Peer tokens must be sent, so they cannot be hashed: each is sealed with AES-256-GCM under a random data key.
 * The data key lives in `<home>/mesh-key.enc`, protected exactly like the agent token's encrypted file
 * (credential/encrypted-file: PBKDF2 of machine id + OS user). A copied mesh.db alone reveals no token.
 */
export class TokenSealer {
  private constructor(private readonly key: Buffer) {}

  static async open(home: string): Promise<TokenSealer> {
    const file = path.join(home, 'mesh-key.enc');
    const source = { machineId: machineId(home), username: osUser() };
    const existing = await readEncryptedFile(file, source);
    if (existing) return new TokenSealer(Buffer.from(existing, 'base64'));
    const key = randomBytes(32);
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    await writeEncryptedFile(file, key.toString('base64'), source);
    return new TokenSealer(key);
  }

  /** For tests and the benchmark: a sealer with a key of their own. */
  static withKey(key: Buffer): TokenSealer {
    return new TokenSealer(key);
  }

  seal(secret: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `v1.${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${body.toString('base64url')}`;
  }

  /** `aad` binds a sealed token to its peer: a row copied onto another peer's id does not open. */
  open(sealed: string, aad: string): string {
    const [v, iv, tag, body] = sealed.split('.');
    if (v !== 'v1' || !iv || !tag || !body) throw new Error('sealed token in an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  }
}

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}
