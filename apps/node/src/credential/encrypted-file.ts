import { createCipheriv, createDecipheriv, pbkdf2, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { z } from 'zod';
import { writeFileAtomic } from '../config';
import { CredentialError } from './errors';

/** OWASP's 2023 figure for PBKDF2-HMAC-SHA256. Part of format v1: a change means v2. */
export const PBKDF2_ITERATIONS = 210_000;
const AAD = Buffer.from('canopy-node credential v1');
const pbkdf2Async = promisify(pbkdf2);

const FileFormat = z.object({
  v: z.literal(1),
  salt: z.base64(),
  iv: z.base64(),
  tag: z.base64(),
  ciphertext: z.base64(),
});

/** What the file key is derived from: the machine and the OS user, plus the salt kept in the file. */
export interface FileKeySource {
  machineId: string;
  username: string;
}

async function deriveKey(source: FileKeySource, salt: Buffer): Promise<Buffer> {
  return pbkdf2Async(`${source.machineId}\n${source.username}`, salt, PBKDF2_ITERATIONS, 32, 'sha256');
}

/** AES-256-GCM; the file is written atomically with mode 0600. */
export async function writeEncryptedFile(file: string, secret: string, source: FileKeySource): Promise<void> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', await deriveKey(source, salt), iv);
  cipher.setAAD(AAD);
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  const body = {
    v: 1,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
  writeFileAtomic(file, `${JSON.stringify(body)}\n`);
}

/** The secret, or null when there is no file. A file from another machine or user is a CredentialError. */
export async function readEncryptedFile(file: string, source: FileKeySource): Promise<string | null> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CredentialError(`the credential file ${file} cannot be read: ${(err as Error).message}`);
  }
  let body: z.infer<typeof FileFormat>;
  try {
    body = FileFormat.parse(JSON.parse(text));
  } catch {
    throw new CredentialError(`the credential file ${file} is damaged: run canopy-node setup again`);
  }
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      await deriveKey(source, Buffer.from(body.salt, 'base64')),
      Buffer.from(body.iv, 'base64'),
    );
    decipher.setAAD(AAD);
    decipher.setAuthTag(Buffer.from(body.tag, 'base64'));
    return Buffer.concat([
      decipher.update(Buffer.from(body.ciphertext, 'base64')),
      decipher.final(),
    ]).toString('utf8');
  } catch (err) {
    throw new CredentialError('credential cannot be decrypted on this machine: run canopy-node setup again', {
      cause: err,
    });
  }
}
