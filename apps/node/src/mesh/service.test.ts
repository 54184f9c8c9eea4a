import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenSealer } from './secrets';
import { MeshFailure, MeshService, parsePairingLink, safeFileName } from './service';
import { MeshStore } from './store';
import { RENEW_BELOW_MS, TOKEN_TTL_MS } from './tokens';

const DAY = 86_400_000;

/** A service on an in-memory store, with a clock the test moves; no listener (the rules, not the wire). */
function rig() {
  const inbox = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-mesh-inbox-'));
  let now = Date.UTC(2026, 11, 4, 12);
  const store = new MeshStore(':memory:');
  const service = new MeshService({
    store,
    sealer: TokenSealer.withKey(randomBytes(32)),
    identity: { id: 'self-id', name: 'Studio', created_at: new Date(now).toISOString() },
    tls: { key: '', cert: '', fingerprint: 'ab'.repeat(32) },
    capabilities: ['always_on'],
    metadata: {},
    inbox,
    maxFileBytes: 1000,
    log: pino({ level: 'silent' }),
    now: () => now,
  });
  service.advertise = { hostname: '127.0.0.1', port: 9848 };
  return {
    store,
    service,
    inbox,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

/** Pairs a phone the way the pairing page does and returns the token it was given. */
async function pairPhone(r: ReturnType<typeof rig>, id = 'phone-1') {
  const offer = await r.service.startPairing();
  const code = parsePairingLink(offer.url)?.code ?? '';
  const res = r.service.verifyPairing(
    { code, pin: offer.pin, node_identity: { node_id: id, name: 'Pixel', kind: 'browser' } },
    '127.0.0.1',
  );
  return res.peer_node.access_token;
}

describe('the mesh service', () => {
  let r: ReturnType<typeof rig>;
  beforeEach(() => {
    r = rig();
  });
  afterEach(() => {
    r.store.close();
    fs.rmSync(r.inbox, { recursive: true, force: true });
  });

  it('issues a 30-day token at pairing, stored only as a hash', async () => {
    const token = await pairPhone(r);
    const row = r.store.listIssued()[0];
    expect(row).toMatchObject({ nodeId: 'phone-1', expiresAt: r.now() + TOKEN_TTL_MS, revokedAt: null });
    const dump = JSON.stringify(r.store.db.prepare('SELECT * FROM issued_tokens').all());
    expect(dump).not.toContain(token);
  });

  it('calls a paired canopy-node at the address it now calls from, once its address changed', async () => {
    const offer = await r.service.startPairing();
    const code = parsePairingLink(offer.url)?.code ?? '';
    const laptop = {
      node_id: 'laptop-1',
      name: 'Laptop',
      kind: 'node' as const,
      hostname: '10.0.0.5',
      port: 9848,
      fingerprint: 'cd'.repeat(32),
    };
    const token = r.service.verifyPairing({ code, pin: offer.pin, node_identity: laptop }, '::ffff:10.0.0.5')
      .peer_node.access_token;
    expect(r.store.getNode('laptop-1')?.hostname).toBe('10.0.0.5');
    // DHCP gave the laptop another address; its next call (a status check, a file) comes from there.
    expect(r.service.authenticate(`Bearer ${token}`, 'node:read', '::ffff:10.0.0.23').ok).toBe(true);
    expect(r.store.getNode('laptop-1')).toMatchObject({ hostname: '10.0.0.23', port: 9848 });
    // A refused call moves nothing; nor does a phone, which is never called back.
    expect(r.service.authenticate(`Bearer ${token}x`, 'node:read', '10.0.0.99').ok).toBe(false);
    expect(r.store.getNode('laptop-1')?.hostname).toBe('10.0.0.23');
    const phoneToken = await pairPhone(r);
    expect(r.service.authenticate(`Bearer ${phoneToken}`, 'node:read', '10.0.0.77').ok).toBe(true);
    expect(r.store.getNode('phone-1')?.hostname).toBe('');
  });

  it('accepts the token for what it grants and refuses what it does not', async () => {
    const token = await pairPhone(r);
    expect(r.service.authenticate(`Bearer ${token}`, 'files:write')).toMatchObject({
      ok: true,
      peer: { nodeId: 'phone-1' },
    });
    expect(r.service.authenticate(`Bearer ${token}`, 'tasks:run')).toMatchObject({
      ok: false,
      code: 'MESH_PERMISSION_DENIED',
    });
    expect(r.service.authenticate(undefined, 'node:read')).toMatchObject({
      ok: false,
      code: 'MESH_TOKEN_MISSING',
    });
    expect(r.service.authenticate(`Bearer ${token}x`, 'node:read')).toMatchObject({
      ok: false,
      code: 'MESH_TOKEN_UNKNOWN',
    });
  });

  it('updates last_used_at and silently extends a token with fewer than 7 days left', async () => {
    const token = await pairPhone(r);
    r.advance(TOKEN_TTL_MS - RENEW_BELOW_MS - DAY);
    const early = r.service.authenticate(`Bearer ${token}`, 'node:read');
    expect(early).toMatchObject({ ok: true });
    // "Used at" is buffered: the hot path stays a read until the next flush.
    expect(r.store.listIssued()[0]?.lastUsedAt).toBeNull();
    r.service.flushTouches();
    expect(r.store.listIssued()[0]?.lastUsedAt).toBe(r.now());
    expect(r.store.listIssued()[0]?.expiresAt).toBe(
      r.now() - (TOKEN_TTL_MS - RENEW_BELOW_MS - DAY) + TOKEN_TTL_MS,
    );

    r.advance(2 * DAY);
    const renewed = r.service.authenticate(`Bearer ${token}`, 'node:read');
    expect(renewed).toEqual({
      ok: true,
      peer: expect.objectContaining({ expiresAt: r.now() + TOKEN_TTL_MS }),
    });
    expect(r.store.listIssued()[0]?.expiresAt).toBe(r.now() + TOKEN_TTL_MS);
  });

  it('refuses an expired token, and a revoked one as "Device access removed"', async () => {
    const token = await pairPhone(r);
    r.advance(TOKEN_TTL_MS);
    expect(r.service.authenticate(`Bearer ${token}`, 'node:read')).toMatchObject({
      ok: false,
      code: 'MESH_TOKEN_EXPIRED',
    });
    const other = await pairPhone(r, 'phone-2');
    expect(r.service.revokeToken('phone-2')).toBe(true);
    expect(r.service.authenticate(`Bearer ${other}`, 'node:read')).toMatchObject({
      ok: false,
      code: 'MESH_TOKEN_REVOKED',
    });
    expect(r.service.devices().find((d) => d.id === 'phone-2')?.status).toBe('NEEDS_REPAIR');
  });

  it('lets a code pair once only', async () => {
    const offer = await r.service.startPairing();
    const body = {
      code: offer.code,
      pin: offer.pin,
      node_identity: { node_id: 'p', name: 'P', kind: 'browser' },
    };
    r.service.verifyPairing(body, '127.0.0.1');
    expect(() => r.service.verifyPairing(body, '127.0.0.1')).toThrowError(MeshFailure);
  });

  it('archives devices offline for more than 90 days instead of deleting them', async () => {
    await pairPhone(r);
    r.advance(91 * DAY);
    expect(r.service.cleanup()).toEqual(['phone-1']);
    expect(r.service.devices()).toEqual([]);
    expect(r.service.devices({ includeArchived: true }).map((d) => d.id)).toEqual(['phone-1']);
  });

  it('receives a file into the inbox and refuses one above the size limit', async () => {
    await expect(
      r.service.receiveFile('phone-1', '../../etc/passwd', 5, Readable.from([Buffer.from('hello')])),
    ).resolves.toEqual({
      name: 'passwd',
      bytes: 5,
    });
    expect(fs.readFileSync(path.join(r.inbox, 'passwd'), 'utf8')).toBe('hello');
    await expect(
      r.service.receiveFile('phone-1', 'big', 1001, Readable.from([Buffer.alloc(1001)])),
    ).rejects.toMatchObject({
      body: { code: 'PAYLOAD_TOO_LARGE' },
    });
    // A sender that lies about the length is cut off at the limit, and nothing is left behind.
    await expect(
      r.service.receiveFile('phone-1', 'liar', 10, Readable.from([Buffer.alloc(600), Buffer.alloc(600)])),
    ).rejects.toMatchObject({
      body: { code: 'PAYLOAD_TOO_LARGE' },
    });
    // Not even a moment later (the file being opened when the sender was cut off must not appear after).
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fs.readdirSync(r.inbox)).toEqual(['passwd']);
  });

  it('names inbox files safely', () => {
    expect(safeFileName('a%2Fb.txt')).toBe('b.txt');
    expect(safeFileName('..')).toBe('file');
    expect(safeFileName('.hidden')).toBe('hidden');
    expect(safeFileName(undefined)).toBe('file');
  });
});
