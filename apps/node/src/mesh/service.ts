import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type MeshErrorBody,
  MeshHealthResponse,
  type MeshNodeIdentity,
  MeshPairVerifyRequest,
  MeshPairVerifyResponse,
} from '@canopy/protocol';
import type { Logger } from 'pino';
import QRCode from 'qrcode';
import { capabilityLabels, deviceStatus } from './devices';
import { type MeshCode, meshError } from './friendly';
import type { NodeIdentity } from './identity';
import {
  formatCode,
  generatePairingCode,
  generatePin,
  judgePin,
  normalizeCode,
  normalizePin,
  PAIRING_TTL_MS,
  SourceLimiter,
} from './pairing-rules';
import { PeerUnreachable, peerRequest } from './peer-client';
import { DEFAULT_GRANT, hasPermission, PERMISSIONS } from './permissions';
import type { TokenSealer } from './secrets';
import type { MeshNodeRow, MeshStore } from './store';
import type { MeshTls } from './tls';
import { normalizeFingerprint } from './tls';
import { bearerToken, generateToken, hashToken, judgeToken, sameSecret, TOKEN_TTL_MS } from './tokens';

/** A refused mesh operation: `body` is what the caller is shown, `detail` what the log keeps. */
export class MeshFailure extends Error {
  readonly body: MeshErrorBody;
  constructor(code: MeshCode, details: Record<string, unknown> = {}, detail?: string) {
    super(detail ?? code);
    this.name = 'MeshFailure';
    this.body = meshError(code, details);
  }
}

export interface AuthedPeer {
  nodeId: string;
  permissions: string[];
  /** The token's expiry after this request (renewed when it was near). */
  expiresAt: number;
}

export type AuthResult = { ok: true; peer: AuthedPeer } | { ok: false; code: MeshCode; nodeId?: string };

export interface MeshServiceOptions {
  store: MeshStore;
  sealer: TokenSealer;
  identity: NodeIdentity;
  tls: MeshTls;
  capabilities: string[];
  metadata: Record<string, unknown>;
  inbox: string;
  maxFileBytes: number;
  log: Logger;
  now?: () => number;
  /** Keeps a renamed identity (node_identity.json). */
  saveIdentity?: (identity: NodeIdentity) => void;
}

export interface PairingOffer {
  code: string;
  pin: string;
  url: string;
  qrSvgDataUrl: string;
  expiresAt: string;
}

export interface DeviceView {
  id: string;
  name: string;
  kind: string;
  status: 'AVAILABLE' | 'OFFLINE' | 'NEEDS_REPAIR';
  capabilities: string[];
  lastSeen: string | null;
  needsRepair: boolean;
  canStoreMedia: boolean;
  canProcessVideo: boolean;
  isAlwaysOn: boolean;
  canReceiveFiles: boolean;
}

/** Seconds between last_used_at writes for a busy token: verification stays a read on the hot path. */
const TOUCH_EVERY_MS = 30_000;
const PING_TIMEOUT_MS = 3000;
export const TOKEN_EXPIRY_HEADER = 'x-canopy-token-expires';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const codeHash = (code: string) => sha(`code:${code}`);
const pinHash = (code: string, pin: string) => sha(`pin:${code}:${pin}`);

/**
 * The device mesh of one node (spec 001): pairing, peer authentication, devices and their status, discovery,
 * files. Pure rules live in tokens/pairing-rules/permissions/devices; this class wires them to the store
 * and the network.
 */
export class MeshService {
  /**
   * Keeps the token a peer issued this node (sealed: it is sent back, so it cannot be only hashed), and counts
   * the peer reachable — both sides of a pairing have just talked to each other.
   */
  private keepPeerToken(
    nodeId: string,
    grant: { access_token: string; permissions: string[]; expires_at: string },
    now: number,
  ): void {
    this.o.store.putPeerToken({
      nodeId,
      sealed: this.o.sealer.seal(grant.access_token, nodeId),
      permissions: grant.permissions,
      expiresAt: Date.parse(grant.expires_at) || now + TOKEN_TTL_MS,
      createdAt: now,
    });
    this.o.store.recordPing({
      nodeId,
      reachable: true,
      lastPingAt: now,
      responseTimeMs: null,
      errorCode: null,
    });
  }
  private readonly limiter = new SourceLimiter();
  /** last_used_at / last_seen_at waiting to be written, by issued token id. */
  private readonly touches = new Map<number, { nodeId: string; at: number }>();
  /** Where each paired device last called from (see noteAddress). */
  private readonly addresses = new Map<string, string>();
  private readonly now: () => number;
  /** Where peers reach this node; set once the LAN listener is up. */
  advertise = { hostname: '127.0.0.1', port: 0 };

  constructor(private readonly o: MeshServiceOptions) {
    this.now = o.now ?? Date.now;
    o.store.setCurrentNode(
      {
        id: o.identity.id,
        name: o.identity.name,
        kind: 'node',
        hostname: '',
        port: null,
        fingerprint: o.tls.fingerprint,
        capabilities: o.capabilities,
        metadata: o.metadata,
        pairedAt: Date.parse(o.identity.created_at) || this.now(),
      },
      this.now(),
    );
    fs.mkdirSync(o.inbox, { recursive: true, mode: 0o700 });
  }

  get identity(): NodeIdentity {
    return this.o.identity;
  }

  get log(): Logger {
    return this.o.log;
  }

  /** This node as it introduces itself to a peer. */
  selfInfo(): MeshNodeIdentity {
    return {
      node_id: this.o.identity.id,
      name: this.o.identity.name,
      kind: 'node',
      hostname: this.advertise.hostname,
      port: this.advertise.port,
      fingerprint: this.o.tls.fingerprint,
      capabilities: this.o.capabilities,
    };
  }

  rename(name: string): NodeIdentity {
    this.o.identity.name = name;
    this.o.saveIdentity?.(this.o.identity);
    this.o.store.db.prepare('UPDATE mesh_nodes SET name = ? WHERE id = ?').run(name, this.o.identity.id);
    return this.o.identity;
  }

  health(): MeshHealthResponse {
    return {
      ok: true,
      node_id: this.o.identity.id,
      capabilities: this.o.capabilities,
      // Senders check a file's size against this before they send it.
      metadata: { ...this.o.metadata, max_file_bytes: this.o.maxFileBytes },
    };
  }

  /** Why a file of `size` bytes would be refused before a byte of it is read, or null. */
  fileRefusal(size: number | null): MeshFailure | null {
    if (size === null) return new MeshFailure('VALIDATION_ERROR', {}, 'file: no content-length');
    if (size > this.o.maxFileBytes)
      return new MeshFailure('PAYLOAD_TOO_LARGE', { max_bytes: this.o.maxFileBytes });
    return null;
  }

  // --- peer authentication (spec 001 phase 4) ---

  /**
   * Bearer token → issued_tokens by hash; refuses unknown, revoked, expired and unpermitted; renews when near.
   * `source` is the request's remote address: a paired canopy-node calling from a new one is called back there.
   */
  authenticate(authorization: string | undefined, permission: string, source = ''): AuthResult {
    const token = bearerToken(authorization);
    if (!token) return { ok: false, code: 'MESH_TOKEN_MISSING' };
    const now = this.now();
    const row = this.o.store.issuedByHash(hashToken(token));
    const verdict = judgeToken(row, now);
    if (!verdict.ok || !row)
      return { ok: false, code: verdict.ok ? 'MESH_TOKEN_UNKNOWN' : verdict.code, nodeId: row?.nodeId };
    if (!hasPermission(row.permissions, permission)) {
      return { ok: false, code: 'MESH_PERMISSION_DENIED', nodeId: row.nodeId };
    }
    const expiresAt = verdict.renewTo ?? row.expiresAt;
    if (verdict.renewTo !== null) {
      // A renewal is written at once; a mere "used at" waits for the next flush (the hot path stays a read).
      this.o.store.markUsed(row.id, now, expiresAt);
      this.o.store.seen(row.nodeId, now);
      this.touches.delete(row.id);
    } else if (row.lastUsedAt === null || now - row.lastUsedAt >= TOUCH_EVERY_MS) {
      this.touches.set(row.id, { nodeId: row.nodeId, at: now });
    }
    this.noteAddress(row.nodeId, source);
    return { ok: true, peer: { nodeId: row.nodeId, permissions: row.permissions, expiresAt } };
  }

  /**
   * A paired canopy-node that calls from another address than the one we call it at (DHCP gave it a new one)
   * is called there from now on; else it would stay Offline until paired again, though it checks in every
   * minute. Remembered per device, so an unchanged address costs no read.
   */
  private noteAddress(nodeId: string, source: string): void {
    const address = reachableAddress(source);
    if (!address || this.addresses.get(nodeId) === address) return;
    this.addresses.set(nodeId, address);
    const node = this.o.store.getNode(nodeId);
    if (node?.kind !== 'node' || node.hostname === address) return;
    this.o.store.moveNode(nodeId, address);
    this.o.log.info(
      { peer: nodeId, from: node.hostname, to: address },
      'a paired device calls from a new address: calling it there from now on',
    );
  }

  /** Writes the pending last_used_at / last_seen_at in one transaction (the background loop every few s). */
  flushTouches(): void {
    if (this.touches.size === 0) return;
    const pending = [...this.touches.entries()];
    this.touches.clear();
    this.o.store.db.transaction(() => {
      for (const [id, t] of pending) {
        this.o.store.touchIssued(id, t.at);
        this.o.store.seen(t.nodeId, t.at);
      }
    })();
  }

  // --- pairing (spec 001 phase 5) ---

  /** "Add a device": a one-time code and PIN, the link and its QR code (which carries the certificate's pin). */
  async startPairing(repairFor: string | null = null): Promise<PairingOffer> {
    const now = this.now();
    const code = generatePairingCode();
    const pin = generatePin();
    const expiresAt = now + PAIRING_TTL_MS;
    this.o.store.purgePairings(now - 24 * 3600_000);
    this.o.store.createPairing({
      codeHash: codeHash(code),
      pinHash: pinHash(code, pin),
      repairFor,
      createdAt: now,
      expiresAt,
    });
    const url = pairingUrl(this.advertise, code, this.o.tls.fingerprint);
    const svg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return {
      code: formatCode(code),
      pin,
      url,
      qrSvgDataUrl: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
      expiresAt: new Date(expiresAt).toISOString(),
    };
  }

  /** The answering side of the handshake: check code + PIN, record the device, exchange tokens. */
  verifyPairing(input: unknown, source: string): MeshPairVerifyResponse {
    const now = this.now();
    if (this.limiter.blocked(source, now))
      throw new MeshFailure('RATE_LIMITED', {}, `pairing: ${source} is rate-limited`);
    const parsed = MeshPairVerifyRequest.safeParse(input);
    if (!parsed.success) throw new MeshFailure('VALIDATION_ERROR', {}, `pairing: bad request body`);
    const req = parsed.data;
    const code = normalizeCode(req.code);
    const session = this.o.store.pairing(codeHash(code));
    const pinOk = session !== null && sameSecret(session.pinHash, pinHash(code, normalizePin(req.pin)));
    const verdict = judgePin(session, pinOk, now);
    if (!verdict.ok) {
      this.limiter.fail(source, now);
      if ('attempts' in verdict && session)
        this.o.store.setPairingAttempts(session.codeHash, verdict.attempts);
      throw new MeshFailure(
        verdict.code,
        verdict.code === 'MESH_PAIRING_PIN_INVALID' ? { tries_left: verdict.triesLeft } : {},
        `pairing refused: ${verdict.code}`,
      );
    }
    if (!session) throw new MeshFailure('MESH_PAIRING_CODE_INVALID');
    this.o.store.usePairing(session.codeHash, now);

    const peer = req.node_identity;
    const token = generateToken();
    const expiresAt = now + TOKEN_TTL_MS;
    this.o.store.db.transaction(() => {
      // A new pairing supersedes whatever the device held before (a re-pair after a removal, say).
      this.o.store.revokeIssued(peer.node_id, now);
      this.o.store.upsertNode(
        {
          id: peer.node_id,
          name: peer.name,
          kind: peer.kind,
          // The address this request came from reached us; the one the peer believes it has may not.
          hostname: peer.kind === 'node' ? reachableAddress(source) || peer.hostname : '',
          port: peer.kind === 'node' ? peer.port : null,
          fingerprint: peer.kind === 'node' ? peer.fingerprint : null,
          capabilities: peer.kind === 'browser' ? ['browser'] : peer.capabilities,
          metadata: {},
          pairedAt: now,
        },
        now,
      );
      this.o.store.issueToken(peer.node_id, hashToken(token), [...DEFAULT_GRANT], now, expiresAt);
      // It just reached us: reachable until the next ping says otherwise.
      if (req.grant && peer.kind === 'node') this.keepPeerToken(peer.node_id, req.grant, now);
    })();
    this.o.log.info({ peer: peer.node_id, kind: peer.kind }, 'paired a device');
    return {
      ok: true,
      peer_node: {
        ...this.selfInfo(),
        access_token: token,
        permissions: [...DEFAULT_GRANT],
        expires_at: new Date(expiresAt).toISOString(),
      },
    };
  }

  /** The joining side: this node opens another's pairing link (or typed code) and enters its PIN. */
  async joinPairing(link: string, pin: string): Promise<DeviceView> {
    const target = parsePairingLink(link);
    if (!target) throw new MeshFailure('MESH_PAIRING_CODE_INVALID', {}, 'join: not a pairing link');
    const now = this.now();
    const token = generateToken();
    const expiresAt = now + TOKEN_TTL_MS;
    const address = { hostname: target.hostname, port: target.port, fingerprint: target.fingerprint };
    let res: Awaited<ReturnType<typeof peerRequest>>;
    try {
      res = await peerRequest(address, {
        method: 'POST',
        path: '/api/pair/verify',
        json: {
          code: target.code,
          pin,
          node_identity: this.selfInfo(),
          grant: {
            access_token: token,
            permissions: [...DEFAULT_GRANT],
            expires_at: new Date(expiresAt).toISOString(),
          },
        },
      });
    } catch (err) {
      throw failureFrom(err);
    }
    if (res.status !== 200) throw remoteFailure(res.body, 'join refused by the other device');
    const parsed = MeshPairVerifyResponse.safeParse(res.body);
    if (!parsed.success)
      throw new MeshFailure('MESH_DEVICE_MISMATCH', {}, 'join: the other device answered nonsense');
    const peer = parsed.data.peer_node;
    if (peer.node_id === this.o.identity.id)
      throw new MeshFailure('VALIDATION_ERROR', {}, 'join: that is this node');
    this.o.store.db.transaction(() => {
      this.o.store.revokeIssued(peer.node_id, now);
      this.o.store.upsertNode(
        {
          id: peer.node_id,
          name: peer.name,
          kind: 'node',
          // The address that worked, not the one the peer believes it has.
          hostname: target.hostname,
          port: target.port,
          fingerprint: normalizeFingerprint(target.fingerprint),
          capabilities: peer.capabilities,
          metadata: {},
          pairedAt: now,
        },
        now,
      );
      this.o.store.issueToken(peer.node_id, hashToken(token), [...DEFAULT_GRANT], now, expiresAt);
      this.keepPeerToken(peer.node_id, peer, now); // we just reached it
    })();
    this.o.log.info({ peer: peer.node_id }, 'paired with a device');
    // The first call with the new token: proves it works and learns the device's metadata.
    await this.ping(peer.node_id);
    return this.device(peer.node_id) as DeviceView;
  }

  // --- devices (spec 001 phases 6, 7, 11) ---

  devices(options: { includeArchived?: boolean } = {}): DeviceView[] {
    this.flushTouches();
    return this.o.store.listPeers(options).map((n) => this.view(n));
  }

  device(id: string): DeviceView | null {
    this.flushTouches();
    const n = this.o.store.getNode(id);
    return n && id !== this.o.identity.id ? this.view(n) : null;
  }

  private view(n: MeshNodeRow): DeviceView {
    const now = this.now();
    const issued = this.o.store.latestIssued(n.id);
    const peerToken = this.o.store.peerToken(n.id);
    const ping = this.o.store.discovery(n.id);
    const status = deviceStatus(
      {
        kind: n.kind,
        lastSeenAt: n.lastSeenAt,
        peerTokenExpiresAt: peerToken?.expiresAt ?? null,
        issuedExpiresAt: issued?.expiresAt ?? null,
        issuedRevoked: issued?.revokedAt != null,
        lastPing: ping,
      },
      now,
    );
    const caps = n.capabilities;
    return {
      id: n.id,
      name: n.name,
      kind: n.kind,
      status,
      capabilities: capabilityLabels(caps),
      lastSeen: n.lastSeenAt ? new Date(n.lastSeenAt).toISOString() : null,
      needsRepair: status === 'NEEDS_REPAIR',
      canStoreMedia: caps.includes('media.storage'),
      canProcessVideo: caps.includes('media.transcode'),
      isAlwaysOn: caps.includes('always_on'),
      canReceiveFiles: n.kind === 'node' && hasPermission(peerToken?.permissions ?? [], PERMISSIONS.sendFile),
    };
  }

  /** Devices having a capability (e.g. `media.storage`). */
  capableNodes(capability: string): DeviceView[] {
    return this.o.store
      .listPeers()
      .filter((n) => n.capabilities.includes(capability))
      .map((n) => this.view(n));
  }

  reachableNodes(): DeviceView[] {
    return this.devices().filter((d) => d.status === 'AVAILABLE');
  }

  issuedTokens() {
    this.flushTouches();
    return this.o.store.listIssued().map((t) => ({
      nodeId: t.nodeId,
      permissions: t.permissions,
      createdAt: new Date(t.createdAt).toISOString(),
      expiresAt: new Date(t.expiresAt).toISOString(),
      lastUsedAt: t.lastUsedAt ? new Date(t.lastUsedAt).toISOString() : null,
      revoked: t.revokedAt !== null,
    }));
  }

  peerTokens() {
    return this.o.store.listPeerTokens().map((t) => ({
      nodeId: t.nodeId,
      permissions: t.permissions,
      expiresAt: new Date(t.expiresAt).toISOString(),
    }));
  }

  /** Revokes the tokens this node issued to a device; the device stays listed. */
  revokeToken(nodeId: string): boolean {
    const n = this.o.store.revokeIssued(nodeId, this.now());
    if (n > 0) this.o.log.info({ peer: nodeId, tokens: n }, 'revoked the tokens issued to a device');
    return n > 0;
  }

  /** "Remove device": tells the device (so this node disappears there too), then revokes both ways. */
  async removeDevice(id: string): Promise<boolean> {
    const node = this.o.store.getNode(id);
    if (!node || id === this.o.identity.id) return false;
    if (node.kind === 'node') {
      const res = await this.callPeer(node, { method: 'POST', path: '/api/peer/unpaired' }).catch(
        (err) => err,
      );
      if (res instanceof Error)
        this.o.log.warn({ peer: id, err: res.message }, 'could not tell the device it was removed');
    }
    this.o.store.revokeIssued(id, this.now());
    this.o.store.deleteNode(id);
    this.o.log.info({ peer: id }, 'removed a device');
    return true;
  }

  /** A peer removed this node: forget it and refuse its token from now on. */
  unpairedBy(peerId: string): void {
    this.o.store.revokeIssued(peerId, this.now());
    this.o.store.deleteNode(peerId);
    this.o.log.info({ peer: peerId }, 'a device removed this node: removed it here too');
  }

  // --- discovery and reachability (spec 001 phases 10, 12) ---

  /** Pings a node with its token and records the answer in discovery_cache. */
  async ping(nodeId: string): Promise<boolean> {
    const node = this.o.store.getNode(nodeId);
    if (node?.kind !== 'node') return false;
    const started = performance.now();
    const record = (reachable: boolean, errorCode: string | null) =>
      this.o.store.recordPing({
        nodeId,
        reachable,
        lastPingAt: this.now(),
        responseTimeMs: reachable ? Math.round((performance.now() - started) * 100) / 100 : null,
        errorCode,
      });
    try {
      const res = await this.callPeer(node, { method: 'GET', path: '/health', timeoutMs: PING_TIMEOUT_MS });
      const health = MeshHealthResponse.safeParse(res.body);
      if (res.status === 200 && health.success && health.data.node_id === nodeId) {
        record(true, null);
        this.o.store.seen(nodeId, this.now());
        this.o.store.upsertNode(
          { ...node, capabilities: health.data.capabilities, metadata: health.data.metadata },
          this.now(),
        );
        return true;
      }
      const code = (res.body as { code?: string } | null)?.code ?? `HTTP_${res.status}`;
      this.o.log.warn({ peer: nodeId, status: res.status, code }, 'a device refused the health check');
      record(true, code);
      return false;
    } catch (err) {
      const code = err instanceof MeshFailure ? err.body.code : 'MESH_DEVICE_OFFLINE';
      this.o.log.debug(
        { peer: nodeId, err: (err as Error).message },
        'a device did not answer the health check',
      );
      record(false, code);
      return false;
    }
  }

  async discover(): Promise<{ checked: number; reachable: number }> {
    const nodes = this.o.store.listPeers().filter((n) => n.kind === 'node');
    const results = await Promise.all(nodes.map((n) => this.ping(n.id)));
    return { checked: nodes.length, reachable: results.filter(Boolean).length };
  }

  /** Daily: devices offline for more than 90 days are archived (kept, hidden); spent pairing codes go. */
  cleanup(): string[] {
    const now = this.now();
    this.o.store.purgePairings(now - 24 * 3600_000);
    const archived = this.o.store.archiveStale(now - 90 * 24 * 3600_000, now);
    if (archived.length > 0)
      this.o.log.info({ devices: archived }, 'archived devices offline for more than 90 days');
    return archived;
  }

  // --- files (send to a device) ---

  /** Streams a file into this node's inbox for a peer allowed to send files. */
  async receiveFile(peerId: string, rawName: string | undefined, size: number | null, body: Readable) {
    const refusal = this.fileRefusal(size);
    if (refusal || size === null) throw refusal;
    const name = safeFileName(rawName);
    const part = path.join(this.o.inbox, `.${name}.${process.pid}.${this.now()}.part`);
    let received = 0;
    const limit = this.o.maxFileBytes;
    const out = fs.createWriteStream(part, { mode: 0o600 });
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            received += chunk.length;
            if (received > limit || received > size)
              throw new MeshFailure('PAYLOAD_TOO_LARGE', { max_bytes: limit });
            yield chunk;
          }
        },
        out,
      );
      if (received !== size)
        throw new MeshFailure('VALIDATION_ERROR', {}, `file: ${received} of ${size} bytes arrived`);
    } catch (err) {
      // The file may still be being opened when the body fails: removed only once the stream has closed, or
      // the open would create it again after the removal and leave it behind.
      if (!out.closed) await once(out, 'close').catch(() => undefined);
      fs.rmSync(part, { force: true });
      throw err;
    }
    const final = uniquePath(this.o.inbox, name);
    fs.renameSync(part, final);
    this.o.store.seen(peerId, this.now());
    this.o.log.info({ peer: peerId, file: path.basename(final), bytes: received }, 'received a file');
    return { name: path.basename(final), bytes: received };
  }

  /** "Send to Laptop": streams a file to a device whose token lets this node send files. */
  async sendFile(deviceId: string, rawName: string | undefined, size: number | null, body: Readable) {
    const node = this.o.store.getNode(deviceId);
    if (!node || node.archivedAt !== null) throw new MeshFailure('MESH_DEVICE_UNKNOWN');
    if (node.kind !== 'node')
      throw new MeshFailure('MESH_PERMISSION_DENIED', {}, 'send: a browser device has no inbox');
    if (size === null) throw new MeshFailure('VALIDATION_ERROR', {}, 'send: no content-length');
    // Our own limit, and the device's as its last health check said (it checks again before reading).
    const limit = Math.min(
      this.o.maxFileBytes,
      Number(node.metadata.max_file_bytes) || Number.POSITIVE_INFINITY,
    );
    if (size > limit) throw new MeshFailure('PAYLOAD_TOO_LARGE', { max_bytes: limit });
    const token = this.o.store.peerToken(deviceId);
    if (!token) throw new MeshFailure('MESH_TOKEN_EXPIRED', {}, 'send: no token for this device');
    if (!hasPermission(token.permissions, PERMISSIONS.sendFile))
      throw new MeshFailure('MESH_PERMISSION_DENIED');
    const res = await this.callPeer(node, {
      method: 'POST',
      path: '/api/files',
      body,
      headers: {
        'x-file-name': encodeURIComponent(safeFileName(rawName)),
        'content-length': String(size),
        'content-type': 'application/octet-stream',
      },
      timeoutMs: 15_000,
    });
    if (res.status !== 200) throw remoteFailure(res.body, 'send refused by the device');
    return res.body as { name: string; bytes: number };
  }

  /** A call to a peer with this node's token for it; updates our copy of the token's expiry. */
  private async callPeer(
    node: MeshNodeRow,
    request: Omit<Parameters<typeof peerRequest>[1], 'token'>,
  ): Promise<Awaited<ReturnType<typeof peerRequest>>> {
    const row = this.o.store.peerToken(node.id);
    if (!row || !node.port || !node.fingerprint)
      throw new MeshFailure('MESH_TOKEN_EXPIRED', {}, 'no token for this device');
    const token = this.o.sealer.open(row.sealed, node.id);
    let res: Awaited<ReturnType<typeof peerRequest>>;
    try {
      res = await peerRequest(
        { hostname: node.hostname, port: node.port, fingerprint: node.fingerprint },
        { ...request, token },
      );
    } catch (err) {
      throw failureFrom(err);
    }
    const renewed = Date.parse(String(res.headers[TOKEN_EXPIRY_HEADER] ?? ''));
    if (Number.isFinite(renewed) && renewed !== row.expiresAt)
      this.o.store.setPeerTokenExpiry(node.id, renewed);
    return res;
  }
}

export function pairingUrl(
  at: { hostname: string; port: number },
  code: string,
  fingerprint: string,
): string {
  const host = at.hostname.includes(':') ? `[${at.hostname}]` : at.hostname;
  // The code and the pin travel in the fragment: a browser never sends it to a server or into a log.
  return `https://${host}:${at.port}/pair#c=${code}&f=${normalizeFingerprint(fingerprint)}`;
}

/** A pairing link as the QR code carries it, or null. */
export function parsePairingLink(
  link: string,
): { hostname: string; port: number; code: string; fingerprint: string } | null {
  let url: URL;
  try {
    url = new URL(link.trim());
  } catch {
    return null;
  }
  const params = new URLSearchParams(url.hash.slice(1));
  const code = params.get('c');
  const fingerprint = params.get('f');
  if (url.protocol !== 'https:' || !code || !fingerprint || !/^[0-9a-f]{64}$/.test(fingerprint)) return null;
  return {
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || 443),
    code: normalizeCode(code),
    fingerprint,
  };
}

/** A request's source address as a host to call back (`::ffff:10.0.0.5` → `10.0.0.5`); '' when unknown. */
export function reachableAddress(source: string): string {
  if (!source || source === 'unknown') return '';
  return source.startsWith('::ffff:') ? source.slice(7) : source;
}

function failureFrom(err: unknown): MeshFailure {
  if (err instanceof MeshFailure) return err;
  if (err instanceof PeerUnreachable) return new MeshFailure(err.code, {}, err.message);
  return new MeshFailure('MESH_DEVICE_OFFLINE', {}, (err as Error).message);
}

/** Passes on a peer's refusal (its code, and only the details a person may see). */
function remoteFailure(body: unknown, detail: string): MeshFailure {
  const b = (body ?? {}) as { code?: string; details?: Record<string, unknown> };
  const code = (typeof b.code === 'string' ? b.code : 'INTERNAL_ERROR') as MeshCode;
  const tries = b.details?.tries_left;
  return new MeshFailure(code, typeof tries === 'number' ? { tries_left: tries } : {}, `${detail}: ${code}`);
}

/** The last path segment, without control characters or a leading dot; never empty. */
export function safeFileName(raw: string | undefined): string {
  let name = '';
  try {
    name = decodeURIComponent(raw ?? '');
  } catch {
    name = raw ?? '';
  }
  name = (name.split(/[\\/]/).pop() ?? '')
    .split('')
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)
    .join('')
    .replace(/^\.+/, '')
    .trim()
    .slice(0, 200);
  return name || 'file';
}

function uniquePath(dir: string, name: string): string {
  const ext = path.extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let i = 0; ; i++) {
    const candidate = path.join(dir, i === 0 ? name : `${stem} (${i})${ext}`);
    if (!fs.existsSync(candidate)) return candidate;
  }
}
