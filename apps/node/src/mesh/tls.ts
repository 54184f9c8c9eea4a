import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';
import { writeFileAtomic } from '../config';

export interface MeshTls {
  key: string;
  cert: string;
  /** SHA-256 of the certificate, 64 lower-case hex digits: what the QR code carries and peers pin. */
  fingerprint: string;
}

/** `AB:CD:…` or `abcd…` → `abcd…`. */
export const normalizeFingerprint = (fp: string) => fp.replace(/:/g, '').toLowerCase();

export function certFingerprint(certPem: string): string {
  return normalizeFingerprint(new X509Certificate(certPem).fingerprint256);
}

/**
 * The mesh's self-signed certificate (EC P-256, 10 years), made on first start and kept in
 * `<home>/mesh-tls/`. Peers do not trust it through a CA: they pin its fingerprint, learnt from the QR code.
 */
export async function loadOrCreateTls(home: string, commonName: string): Promise<MeshTls> {
  const dir = path.join(home, 'mesh-tls');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  if (fs.existsSync(keyFile) && fs.existsSync(certFile)) {
    const key = fs.readFileSync(keyFile, 'utf8');
    const cert = fs.readFileSync(certFile, 'utf8');
    return { key, cert, fingerprint: certFingerprint(cert) };
  }
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: commonName.slice(0, 64) || 'canopy-node' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 24 * 3600_000),
    notAfterDate: new Date(now.getTime() + 10 * 365 * 24 * 3600_000),
  });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(keyFile, pems.private);
  writeFileAtomic(certFile, pems.cert);
  return { key: pems.private, cert: pems.cert, fingerprint: certFingerprint(pems.cert) };
}
