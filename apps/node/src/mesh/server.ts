import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { type MeshCode, meshError, statusOf } from './friendly';
import { meshSchema } from './graphql';
import { contentLength, isLoopback, readJson, sendError, sendHtml, sendJson } from './http-util';
import { PERMISSIONS } from './permissions';
import { type AuthedPeer, MeshFailure, type MeshService, TOKEN_EXPIRY_HEADER } from './service';
import type { MeshTls } from './tls';
import { ownerPage } from './ui/owner-page';
import { pairPage } from './ui/pair-page';

export interface MeshServerOptions {
  service: MeshService;
  tls: MeshTls;
  /** The LAN listener (HTTPS): pairing, the peer API, the page a phone pairs with. */
  host: string;
  port: number;
  /** The owner's listener (HTTP, 127.0.0.1 only): My Devices and the owner API. 0 picks a free port. */
  uiPort: number;
}

export interface MeshServer {
  port: number;
  uiPort: number;
  close(): Promise<void>;
}

type Handler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  params: Record<string, string>,
) => Promise<void> | void;
type Route = { method: string; pattern: RegExp; keys: string[]; handler: Handler };

function route(method: string, path: string, handler: Handler): Route {
  const keys: string[] = [];
  const pattern = new RegExp(
    `^${path.replace(/:(\w+)/g, (_, k: string) => {
      keys.push(k);
      return '([^/]+)';
    })}$`,
  );
  return { method, pattern, keys, handler };
}

/**
 * Two listeners: HTTPS on the LAN (port 9848) for peers and phones, where every call but pairing needs a peer
 * token; HTTP on 127.0.0.1 for the owner's UI, which the LAN cannot reach at all. Both share the service.
 */
export async function startMeshServer(o: MeshServerOptions): Promise<MeshServer> {
  const { service } = o;
  const log = service.log;

  const fail = (res: http.ServerResponse, code: MeshCode, details: Record<string, unknown> = {}) =>
    sendError(res, statusOf(code), meshError(code, details));

  const handleError = (res: http.ServerResponse, err: unknown, what: string) => {
    if (err instanceof MeshFailure) {
      log.info({ code: err.body.code, detail: err.message }, `${what} refused`);
      if (!res.headersSent) sendError(res, statusOf(err.body.code), err.body);
      else res.destroy();
      return;
    }
    log.error({ err }, `${what} failed`);
    if (!res.headersSent) fail(res, 'INTERNAL_ERROR');
    else res.destroy();
  };

  /** The peer auth middleware (spec 001 phase 4). */
  const withPeer =
    (
      permission: string,
      handler: (
        req: http.IncomingMessage,
        res: http.ServerResponse,
        peer: AuthedPeer,
      ) => Promise<void> | void,
    ): Handler =>
    (req, res) => {
      const auth = service.authenticate(req.headers.authorization, permission, req.socket.remoteAddress);
      if (!auth.ok) {
        log.info({ code: auth.code, peer: auth.nodeId, path: req.url }, 'peer request refused');
        req.resume();
        return fail(res, auth.code);
      }
      res.setHeader(TOKEN_EXPIRY_HEADER, new Date(auth.peer.expiresAt).toISOString());
      return handler(req, res, auth.peer);
    };

  const lanRoutes: Route[] = [
    route('GET', '/', (_req, res) => {
      res.writeHead(302, { location: '/pair' });
      res.end();
    }),
    route('GET', '/pair', (_req, res) => sendHtml(res, pairPage(service.identity.name))),
    route('POST', '/api/pair/verify', async (req, res) => {
      try {
        sendJson(res, 200, service.verifyPairing(await readJson(req), req.socket.remoteAddress ?? 'unknown'));
      } catch (err) {
        handleError(res, err, 'pairing');
      }
    }),
    route(
      'GET',
      '/health',
      withPeer(PERMISSIONS.health, (_req, res) => sendJson(res, 200, service.health())),
    ),
    route(
      'POST',
      '/api/files',
      withPeer(PERMISSIONS.sendFile, async (req, res, peer) => {
        try {
          const name = String(req.headers['x-file-name'] ?? '');
          sendJson(res, 200, await service.receiveFile(peer.nodeId, name, contentLength(req), req));
        } catch (err) {
          req.resume();
          handleError(res, err, 'receiving a file');
        }
      }),
    ),
    route(
      'POST',
      '/api/peer/unpaired',
      withPeer(PERMISSIONS.unpair, (req, res, peer) => {
        req.resume();
        service.unpairedBy(peer.nodeId);
        sendJson(res, 200, { ok: true });
      }),
    ),
  ];

  const yoga = createYoga({
    schema: meshSchema(service),
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    logging: false,
    maskedErrors: {
      // A refused operation shows its friendly sentence and code; anything else stays masked.
      maskError: (error, message) => {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (original instanceof MeshFailure) {
          return new GraphQLError(original.body.message, { extensions: { code: original.body.code } });
        }
        if (error instanceof GraphQLError && !error.originalError) return error;
        log.error({ err: original }, 'GraphQL resolver failed');
        return new GraphQLError(message);
      },
    },
  });

  const ownerJson =
    (fn: (body: unknown, params: Record<string, string>) => Promise<unknown> | unknown): Handler =>
    async (req, res, params) => {
      try {
        sendJson(res, 200, await fn(req.method === 'GET' ? undefined : await readJson(req), params));
      } catch (err) {
        handleError(res, err, `${req.method} ${req.url?.split('?')[0]}`);
      }
    };

  const ownerRoutes: Route[] = [
    route('GET', '/', (_req, res) => sendHtml(res, ownerPage(service.identity.name))),
    route(
      'GET',
      '/api/node/identity',
      ownerJson(() => ({ ...service.identity, fingerprint: o.tls.fingerprint })),
    ),
    route(
      'POST',
      '/api/node/identity',
      ownerJson((body) => {
        const name =
          typeof (body as { name?: unknown })?.name === 'string'
            ? (body as { name: string }).name.trim()
            : '';
        if (!name || name.length > 100) throw new MeshFailure('VALIDATION_ERROR', {}, 'identity: bad name');
        return service.rename(name);
      }),
    ),
    route(
      'POST',
      '/api/discover',
      ownerJson(() => service.discover()),
    ),
    route(
      'GET',
      '/api/tokens',
      ownerJson(() => service.issuedTokens()),
    ),
    route(
      'POST',
      '/api/tokens/revoke/:node_id',
      ownerJson((_b, p) => ({ revoked: service.revokeToken(p.node_id ?? '') })),
    ),
    route(
      'GET',
      '/api/devices',
      ownerJson(() => service.devices()),
    ),
    route(
      'POST',
      '/api/pairing',
      ownerJson(() => service.startPairing()),
    ),
    route(
      'POST',
      '/api/join',
      ownerJson((body) => {
        const b = (body ?? {}) as { link?: unknown; pin?: unknown };
        if (typeof b.link !== 'string' || typeof b.pin !== 'string')
          throw new MeshFailure('VALIDATION_ERROR');
        return service.joinPairing(b.link, b.pin);
      }),
    ),
    route('POST', '/api/devices/:id/send', async (req, res, params) => {
      try {
        const name = String(req.headers['x-file-name'] ?? '');
        sendJson(res, 200, await service.sendFile(params.id ?? '', name, contentLength(req), req));
      } catch (err) {
        req.resume();
        handleError(res, err, 'sending a file');
      }
    }),
    route('GET', '/graphql', (req, res) => yoga(req, res)),
    route('POST', '/graphql', (req, res) => yoga(req, res)),
  ];

  const dispatch = (routes: Route[], req: http.IncomingMessage, res: http.ServerResponse) => {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    for (const r of routes) {
      if (r.method !== req.method) continue;
      const m = r.pattern.exec(pathname);
      if (!m) continue;
      const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1] ?? '')]));
      return Promise.resolve(r.handler(req, res, params)).catch((err) => handleError(res, err, 'request'));
    }
    req.resume();
    fail(res, 'NOT_FOUND');
  };

  const lan = https.createServer(
    { key: o.tls.key, cert: o.tls.cert },
    (req, res) => void dispatch(lanRoutes, req, res),
  );
  // Expect: 100-continue (peers sending a file): refuse a bad token or too large a file before the body.
  lan.on('checkContinue', (req, res) => {
    if (req.method === 'POST' && (req.url ?? '').split('?')[0] === '/api/files') {
      const auth = service.authenticate(
        req.headers.authorization,
        PERMISSIONS.sendFile,
        req.socket.remoteAddress,
      );
      const refusal = auth.ok ? service.fileRefusal(contentLength(req)) : new MeshFailure(auth.code);
      if (refusal) {
        log.info(
          { code: refusal.body.code, peer: auth.ok ? auth.peer.nodeId : auth.nodeId },
          'file refused before upload',
        );
        res.shouldKeepAlive = false;
        return sendError(res, statusOf(refusal.body.code), refusal.body);
      }
    }
    res.writeContinue();
    void dispatch(lanRoutes, req, res);
  });
  let uiPort = 0;
  const owner = http.createServer((req, res) => {
    // Loopback only, addressed by a loopback name (no DNS rebinding), and no cross-site requests.
    const host = req.headers.host ?? '';
    const hostname = host.replace(/:\d+$/, '');
    const origin = req.headers.origin;
    if (
      !isLoopback(req.socket.remoteAddress) ||
      !['localhost', '127.0.0.1', '[::1]'].includes(hostname) ||
      (origin !== undefined && origin !== `http://${host}`)
    ) {
      req.resume();
      return fail(res, 'MESH_OWNER_ONLY');
    }
    void dispatch(ownerRoutes, req, res);
  });

  await listen(owner, o.uiPort, '127.0.0.1');
  uiPort = (owner.address() as AddressInfo).port;
  try {
    await listen(lan, o.port, o.host);
  } catch (err) {
    owner.close();
    throw err;
  }
  const port = (lan.address() as AddressInfo).port;
  return {
    port,
    uiPort,
    close: async () => {
      for (const s of [lan, owner]) s.closeAllConnections();
      await Promise.all([lan, owner].map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

function listen(server: http.Server | https.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
