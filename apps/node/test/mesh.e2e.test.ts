import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_ID, fakeCloud, freePort, GOOD_KEY, run, start, tempDirs, waitFor } from './cli-process';
import { type MeshNode, pair, startMeshNode } from './mesh-rig';

// Two real canopy-node processes (the built CLI, `canopy-node mesh`), each with its own home and ports on
// 127.0.0.1, pair over HTTPS with code + PIN and call each other with the tokens they exchanged.
const DEVICES = '{ devices { id name status needsRepair canReceiveFiles capabilities } }';

describe('two canopy-nodes in one mesh', () => {
  const dirs = tempDirs();
  let a: MeshNode;
  let b: MeshNode;
  const idOf = async (node: MeshNode) => (await node.api('GET', '/api/node/identity')).body.id as string;
  const devicesOf = async (node: MeshNode) =>
    (
      (await node.gql(DEVICES)).data as {
        devices: { id: string; name: string; status: string; needsRepair: boolean }[];
      }
    ).devices;

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startMeshNode(dirs.root, 'studio', { maxFileMb: 2 }),
      startMeshNode(dirs.root, 'laptop'),
    ]);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    dirs.cleanup();
  });

  it('refuses a wrong PIN with the tries left, and kills the code after the fifth', async () => {
    const offer = (await a.api('POST', '/api/pairing')).body as { url: string; pin: string };
    const wrong = offer.pin === '000000' ? '111111' : '000000';
    for (const left of [4, 3, 2, 1]) {
      const res = await b.api('POST', '/api/join', { link: offer.url, pin: wrong });
      expect(res.body).toMatchObject({ code: 'MESH_PAIRING_PIN_INVALID', details: { tries_left: left } });
      expect(res.body.message).toBe(`That PIN doesn't match. ${left} ${left === 1 ? 'try' : 'tries'} left.`);
    }
    const fifth = await b.api('POST', '/api/join', { link: offer.url, pin: wrong });
    expect(fifth.body.code).toBe('MESH_PAIRING_CODE_DEAD');
    const right = await b.api('POST', '/api/join', { link: offer.url, pin: offer.pin });
    expect(right.body.code).toBe('MESH_PAIRING_CODE_DEAD');
    expect(await devicesOf(a)).toEqual([]);
    expect(await devicesOf(b)).toEqual([]);
  });

  it('pairs with code + PIN, exchanging tokens both ways, and each side calls the other', async () => {
    const started = performance.now();
    const { joined } = await pair(a, b);
    const ms = performance.now() - started;
    expect(joined.status).toBe(200);
    expect(joined.body).toMatchObject({ name: 'studio', status: 'AVAILABLE', canReceiveFiles: true });
    expect(ms).toBeLessThan(5000);

    const [aId, bId] = [await idOf(a), await idOf(b)];
    expect(await devicesOf(a)).toEqual([
      expect.objectContaining({ id: bId, name: 'laptop', status: 'AVAILABLE' }),
    ]);
    // Each side pings the other with the token it was given (GET /health over pinned HTTPS).
    for (const [node, peer] of [
      [a, bId],
      [b, aId],
    ] as const) {
      const found = (await node.gql('mutation { discoverNodes { checked reachable devices { id status } } }'))
        .data as {
        discoverNodes: { checked: number; reachable: number; devices: { id: string; status: string }[] };
      };
      expect(found.discoverNodes).toMatchObject({
        checked: 1,
        reachable: 1,
        devices: [{ id: peer, status: 'AVAILABLE' }],
      });
    }
    const capable = (
      await b.gql(
        '{ capableNodes(capability: "always_on") { id } media: capableNodes(capability: "media.storage") { id } reachableNodes { id } }',
      )
    ).data;
    expect(capable).toEqual({ capableNodes: [{ id: aId }], media: [], reachableNodes: [{ id: aId }] });
    // The token a holds for b, and the one b holds for a: 30 days, never shown.
    const tokens = (
      await a.gql('{ issuedTokens { nodeId revoked expiresAt } peerTokens { nodeId expiresAt } }')
    ).data as {
      issuedTokens: { nodeId: string; revoked: boolean; expiresAt: string }[];
      peerTokens: { nodeId: string; expiresAt: string }[];
    };
    expect(tokens.issuedTokens).toEqual([expect.objectContaining({ nodeId: bId, revoked: false })]);
    expect(tokens.peerTokens).toEqual([expect.objectContaining({ nodeId: bId })]);
    const days = (Date.parse(tokens.peerTokens[0]?.expiresAt ?? '') - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });

  it('sends a file into the other node’s inbox, within its size limit', async () => {
    const aId = await idOf(a);
    const bytes = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
    const sent = await fetch(`${b.ui}/api/devices/${aId}/send`, {
      method: 'POST',
      headers: { 'x-file-name': encodeURIComponent('brake test.bin') },
      body: bytes,
    });
    expect(sent.status).toBe(200);
    expect(await sent.json()).toEqual({ name: 'brake test.bin', bytes: bytes.length });
    expect(fs.readFileSync(path.join(a.home, 'inbox', 'brake test.bin')).equals(bytes)).toBe(true);

    const big = await fetch(`${b.ui}/api/devices/${aId}/send`, {
      method: 'POST',
      headers: { 'x-file-name': 'big.bin' },
      body: Buffer.alloc(2 * 1024 * 1024 + 1),
    });
    // Refused by the sender already: the studio's /health told the laptop its limit.
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: 'That file is too big to send.',
    });
    expect(fs.existsSync(path.join(a.home, 'inbox', 'big.bin'))).toBe(false);
  });

  it('keeps devices and tokens across a restart, and the receiver enforces its new limit', async () => {
    const before = await devicesOf(a);
    const configFile = path.join(a.home, 'config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    fs.writeFileSync(configFile, JSON.stringify({ ...config, mesh: { ...config.mesh, maxFileMb: 1 } }));
    const renamed = await a.api('POST', '/api/node/identity', { name: 'Studio' });
    expect(renamed.body).toMatchObject({ name: 'Studio' });
    await a.restart();
    expect(await devicesOf(a)).toEqual(before);
    expect((await a.api('GET', '/api/node/identity')).body).toMatchObject({ name: 'Studio' });

    // The laptop still believes 2 MB: the studio refuses the headers (Expect: 100-continue), no byte is sent.
    const aId = await idOf(a);
    const tooBig = await fetch(`${b.ui}/api/devices/${aId}/send`, {
      method: 'POST',
      headers: { 'x-file-name': 'medium.bin' },
      body: Buffer.alloc(1536 * 1024),
    });
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(fs.readdirSync(path.join(a.home, 'inbox'))).toEqual(['brake test.bin']);

    const found = (await b.gql('mutation { discoverNodes { reachable } }')).data as {
      discoverNodes: { reachable: number };
    };
    expect(found.discoverNodes.reachable).toBe(1);
  });

  it('refuses the next call once the token is revoked, and says the device needs re-pairing', async () => {
    const [aId, bId] = [await idOf(a), await idOf(b)];
    const revoked = await a.api('POST', `/api/tokens/revoke/${bId}`);
    expect(revoked.body).toEqual({ revoked: true });

    const refused = await fetch(`${b.ui}/api/devices/${aId}/send`, {
      method: 'POST',
      headers: { 'x-file-name': 'after.txt' },
      body: 'after revoke',
    });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({
      code: 'MESH_TOKEN_REVOKED',
      message: 'Device access removed',
      details: {},
    });
    expect(fs.existsSync(path.join(a.home, 'inbox', 'after.txt'))).toBe(false);

    await b.gql('mutation { discoverNodes { checked } }');
    expect(await devicesOf(b)).toEqual([
      expect.objectContaining({ id: aId, status: 'NEEDS_REPAIR', needsRepair: true }),
    ]);
  });

  it('re-pairs, then "Remove device" on one side removes it on the other too', async () => {
    const { joined } = await pair(a, b);
    expect(joined.body).toMatchObject({ status: 'AVAILABLE' });
    const aId = await idOf(a);
    expect((await devicesOf(b)).map((d) => d.status)).toEqual(['AVAILABLE']);

    const removed = (await b.gql('mutation ($id: ID!) { removeDevice(id: $id) }', { id: aId })).data;
    expect(removed).toEqual({ removeDevice: true });
    expect(await devicesOf(b)).toEqual([]);
    expect(await devicesOf(a)).toEqual([]);
    const tokens = (await a.gql('{ issuedTokens { revoked } peerTokens { nodeId } }')).data as {
      issuedTokens: { revoked: boolean }[];
      peerTokens: unknown[];
    };
    expect(tokens.issuedTokens.every((t) => t.revoked)).toBe(true);
    expect(tokens.peerTokens).toEqual([]);
  });

  it('serves the owner API only on its loopback listener, never to another site or over the LAN port', async () => {
    const evil = await a.api('GET', '/api/tokens', undefined, { origin: 'http://evil.example' });
    expect(evil.status).toBe(403);
    expect(evil.body).toMatchObject({ code: 'MESH_OWNER_ONLY' });
    // DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own name as Host.
    const rebound = await new Promise<number>((resolve, reject) =>
      http
        .get(
          {
            host: '127.0.0.1',
            port: a.uiPort,
            path: '/api/tokens',
            headers: { host: `evil.example:${a.uiPort}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
        .on('error', reject),
    );
    expect(rebound).toBe(403);
    // On the LAN port there is no owner API at all, and the peer API needs a token.
    const get = (p: string) =>
      new Promise<number>((resolve, reject) =>
        https
          .get({ host: '127.0.0.1', port: a.port, path: p, rejectUnauthorized: false }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject),
      );
    expect(await get('/api/tokens')).toBe(404);
    expect(await get('/graphql')).toBe(404);
    expect(await get('/health')).toBe(401);
  });

  it('pairs a browser device that typed the short code, and lets it call with its token', async () => {
    const offer = (await a.api('POST', '/api/pairing')).body as { code: string; pin: string };
    expect(offer.code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    // Typed by a person: lower case, a space instead of the dash, the PIN with a space.
    const typed = `${offer.code.slice(0, 4).toLowerCase()} ${offer.code.slice(5)}`;
    const pinTyped = `${offer.pin.slice(0, 3)} ${offer.pin.slice(3)}`;
    const lan = (method: string, p: string, body?: unknown, token?: string) =>
      new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
        const req = https.request(
          {
            host: '127.0.0.1',
            port: a.port,
            path: p,
            method,
            rejectUnauthorized: false,
            headers: {
              'content-type': 'application/json',
              ...(token ? { authorization: `Bearer ${token}` } : {}),
            },
          },
          (res) => {
            let text = '';
            res.on('data', (d) => {
              text += d;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          },
        );
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
    const paired = await lan('POST', '/api/pair/verify', {
      code: typed,
      pin: pinTyped,
      node_identity: { node_id: 'typed-phone', name: 'Tablet', kind: 'browser' },
    });
    expect(paired.status).toBe(200);
    const token = (paired.body.peer_node as { access_token: string }).access_token;
    expect(token).toMatch(/^cmt_[A-Za-z0-9_-]{43}$/);
    const health = await lan('GET', '/health', undefined, token);
    expect(health).toMatchObject({ status: 200, body: { ok: true, node_id: await idOf(a) } });
    expect(health.body.metadata).toMatchObject({ max_file_bytes: 1024 * 1024 });
    expect(await devicesOf(a)).toEqual([expect.objectContaining({ id: 'typed-phone', status: 'AVAILABLE' })]);
    expect((await a.gql('mutation { removeDevice(id: "typed-phone") }')).data).toEqual({
      removeDevice: true,
    });
    expect(await lan('GET', '/health', undefined, token)).toMatchObject({
      status: 401,
      body: { code: 'MESH_TOKEN_REVOKED', message: 'Device access removed' },
    });
  });

  it('answers GraphQL refusals with the friendly sentence and the code', async () => {
    const res = await a.gql('mutation { repairDevice(id: "nobody") { pin } }');
    expect(res.errors).toEqual([
      expect.objectContaining({
        message: 'Device not recognized',
        extensions: { code: 'MESH_DEVICE_UNKNOWN' },
      }),
    ]);
    const repair = (await a.gql('mutation { addDevice { pin code } }')).data as {
      addDevice: { pin: string };
    };
    expect(repair.addDevice.pin).toMatch(/^\d{6}$/);
  });

  it('writes no token, PIN or pairing code into its logs', async () => {
    const logs = [a, b].map((n) => n.process.output()).join('\n');
    expect(logs).toContain('paired');
    expect(logs).not.toMatch(/cmt_[A-Za-z0-9_-]{10,}/);
    expect(logs).not.toMatch(/"pin"|pin=\d{6}/i);
  });
});

describe('the daemon runs the mesh beside the cloud link', () => {
  const dirs = tempDirs();
  let cloud: Awaited<ReturnType<typeof fakeCloud>>;
  const env = { CANOPY_NODE_HOME: dirs.home, HOME: dirs.userHome, CANOPY_MESH: 'on' };
  const configFile = path.join(dirs.home, 'config.json');
  const withPorts = (mesh: Record<string, unknown>, healthPort: number) => {
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        ...config,
        healthPort,
        mesh: { host: '127.0.0.1', advertiseHost: '127.0.0.1', ...mesh },
      }),
    );
  };

  beforeAll(async () => {
    cloud = await fakeCloud();
    expect((await run(['setup', GOOD_KEY, '--cloud', cloud.url], env)).code).toBe(0);
  });
  afterAll(async () => {
    await cloud.close();
    dirs.cleanup();
  });

  it('logs a taken mesh port clearly and keeps the rest of the node running', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    const healthPort = await freePort();
    withPorts({ port: taken, uiPort: await freePort() }, healthPort);
    const node = start(['connect'], env);
    try {
      await waitFor(
        'the mesh error',
        () =>
          /the device mesh could not start: port \d+ or \d+ is already in use.*the node runs on without it/.test(
            node.output(),
          ) || undefined,
      );
      const health = await waitFor('a healthy node', async () => {
        const res = await fetch(`http://127.0.0.1:${healthPort}/health`).catch(() => null);
        return res?.status === 200
          ? ((await res.json()) as { connection: string; mesh: unknown })
          : undefined;
      });
      expect(health.connection).toBe('connected');
      expect(health.mesh).toEqual({
        enabled: false,
        error: expect.stringMatching(/^the device mesh could not start: port \d+ or \d+ is already in use/),
      });
      expect(await node.stop('SIGINT')).toBe(0);
    } finally {
      if (node.child.exitCode === null) node.child.kill('SIGKILL');
      blocker.close();
    }
  });

  it('gives the mesh the identity the node has with the cloud, and reports it on /health', async () => {
    const uiPort = await freePort();
    const meshPort = await freePort();
    const healthPort = await freePort();
    withPorts({ port: meshPort, uiPort }, healthPort);
    const node = start(['daemon'], env);
    try {
      const identity = await waitFor('My Devices', async () => {
        const res = await fetch(`http://127.0.0.1:${uiPort}/api/node/identity`).catch(() => null);
        return res?.status === 200 ? ((await res.json()) as { id: string }) : undefined;
      });
      expect(identity.id).toBe(AGENT_ID);
      const health = (await (await fetch(`http://127.0.0.1:${healthPort}/health`)).json()) as {
        mesh: unknown;
      };
      expect(health.mesh).toEqual({
        enabled: true,
        port: meshPort,
        uiUrl: `http://127.0.0.1:${uiPort}/`,
        devices: {},
      });
      expect(JSON.parse(fs.readFileSync(path.join(dirs.home, 'node_identity.json'), 'utf8')).id).toBe(
        AGENT_ID,
      );
      expect(await node.stop('SIGTERM')).toBe(0);
    } finally {
      if (node.child.exitCode === null) node.child.kill('SIGKILL');
    }
  });
});
