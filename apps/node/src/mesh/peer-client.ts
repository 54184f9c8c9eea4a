import type http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { normalizeFingerprint } from './tls';

/** Where a peer's API is and the certificate it must present. */
export interface PeerAddress {
  hostname: string;
  port: number;
  fingerprint: string;
}

export interface PeerResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** Why a call did not reach the peer's API: its code is one of the protocol's. */
export class PeerUnreachable extends Error {
  constructor(
    readonly code: 'MESH_DEVICE_OFFLINE' | 'MESH_DEVICE_MISMATCH',
    detail: string,
  ) {
    super(detail);
    this.name = 'PeerUnreachable';
  }
}

/**
 * One HTTPS request to a peer whose certificate is pinned by fingerprint: the pinned certificate is the only
 * CA the connection trusts, and its fingerprint is checked again on every handshake.
 */
export async function peerRequest(
  peer: PeerAddress,
  request: {
    method: string;
    path: string;
    token?: string;
    json?: unknown;
    body?: Readable;
    headers?: Record<string, string>;
    timeoutMs?: number;
  },
): Promise<PeerResponse> {
  const timeoutMs = request.timeoutMs ?? 5000;
  const ca = await pinnedCertificate(peer, timeoutMs);
  const headers: Record<string, string> = { ...request.headers };
  if (request.body) headers.expect = '100-continue';
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  let payload: Buffer | undefined;
  if (request.json !== undefined) {
    payload = Buffer.from(JSON.stringify(request.json));
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  return new Promise<PeerResponse>((resolve, reject) => {
    let responded = false;
    const req = https.request(
      {
        method: request.method,
        path: request.path,
        host: peer.hostname,
        port: peer.port,
        headers,
        agent: false,
        // The pinned certificate is the only trust anchor; its name does not matter, its fingerprint does.
        ca,
        checkServerIdentity: (_host, cert) =>
          normalizeFingerprint(cert.fingerprint256 ?? '') === normalizeFingerprint(peer.fingerprint)
            ? undefined
            : new PeerUnreachable(
                'MESH_DEVICE_MISMATCH',
                'the peer presented another certificate than the pinned one',
              ),
      },
      (res) => {
        responded = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : null;
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
        res.on('error', reject);
      },
    );
    // The timeout covers the answer; an upload stream runs as long as it keeps moving.
    let timer = setTimeout(
      () => req.destroy(new PeerUnreachable('MESH_DEVICE_OFFLINE', 'no answer')),
      timeoutMs,
    );
    req.on('error', (err) => {
      clearTimeout(timer);
      if (responded) return;
      reject(err instanceof PeerUnreachable ? err : new PeerUnreachable('MESH_DEVICE_OFFLINE', err.message));
    });
    if (request.body) {
      const body = request.body;
      clearTimeout(timer);
      // Expect: 100-continue: the body goes only once the peer accepted the headers (token, size), so a
      // refusal arrives as an answer instead of a broken upload.
      req.on('continue', () => {
        body.on('data', () => {
          clearTimeout(timer);
          timer = setTimeout(
            () => req.destroy(new PeerUnreachable('MESH_DEVICE_OFFLINE', 'upload stalled')),
            timeoutMs,
          );
        });
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      });
      timer = setTimeout(
        () => req.destroy(new PeerUnreachable('MESH_DEVICE_OFFLINE', 'no answer')),
        timeoutMs,
      );
      req.flushHeaders();
    } else {
      req.end(payload);
    }
  });
}

/** Certificates already fetched and matched, by fingerprint. */
const pinned = new Map<string, string>();

/**
 * The peer's certificate as PEM, fetched once over a TLS connection that sends nothing and kept only when
 * its SHA-256 matches the fingerprint learnt at pairing (from the QR code).
 */
function pinnedCertificate(peer: PeerAddress, timeoutMs: number): Promise<string> {
  const fp = normalizeFingerprint(peer.fingerprint);
  const known = pinned.get(fp);
  if (known) return Promise.resolve(known);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: peer.hostname, port: peer.port, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new PeerUnreachable('MESH_DEVICE_OFFLINE', `no TLS handshake within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      socket.destroy();
      if (normalizeFingerprint(cert.fingerprint256 ?? '') !== fp || !cert.raw) {
        reject(
          new PeerUnreachable(
            'MESH_DEVICE_MISMATCH',
            'the peer presented another certificate than the pinned one',
          ),
        );
        return;
      }
      const pem = `-----BEGIN CERTIFICATE-----\n${(cert.raw.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
      pinned.set(fp, pem);
      resolve(pem);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new PeerUnreachable('MESH_DEVICE_OFFLINE', err.message));
    });
  });
}
