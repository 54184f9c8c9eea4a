import fs from 'node:fs';
import path from 'node:path';
import { freePort, start, waitFor } from './cli-process';

export type Json = Record<string, unknown> & { [key: string]: unknown };

/** A canopy-node running only its mesh (`canopy-node mesh`, the built CLI) with a home and ports of its own. */
export interface MeshNode {
  home: string;
  port: number;
  uiPort: number;
  ui: string;
  process: ReturnType<typeof start>;
  /** The owner API on 127.0.0.1. */
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Json }>;
  gql(query: string, variables?: Record<string, unknown>): Promise<Json>;
  stop(): Promise<number | null>;
  restart(): Promise<void>;
}

export async function startMeshNode(
  root: string,
  name: string,
  mesh: Record<string, unknown> = {},
): Promise<MeshNode> {
  const home = path.join(root, name);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const port = await freePort();
  const uiPort = await freePort();
  fs.writeFileSync(
    path.join(home, 'config.json'),
    JSON.stringify({
      version: 2,
      nodeName: name,
      mesh: { host: '127.0.0.1', port, uiPort, advertiseHost: '127.0.0.1', ...mesh },
    }),
    { mode: 0o600 },
  );
  const env = {
    CANOPY_NODE_HOME: home,
    HOME: path.join(root, `${name}-user`),
    CANOPY_MESH: 'on',
    LOG_LEVEL: 'debug',
  };
  const ui = `http://127.0.0.1:${uiPort}`;
  const node: MeshNode = {
    home,
    port,
    uiPort,
    ui,
    process: start(['mesh'], env),
    api: async (method, p, body, headers = {}) => {
      const res = await fetch(`${ui}${p}`, {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Json };
    },
    gql: async (query, variables) => {
      const res = await fetch(`${ui}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as Json;
    },
    stop: () => node.process.stop('SIGTERM'),
    restart: async () => {
      await node.process.stop('SIGTERM');
      node.process = start(['mesh'], env);
      await ready(node);
    },
  };
  await ready(node);
  return node;
}

async function ready(node: MeshNode) {
  await waitFor(
    'the mesh to listen',
    () => (node.process.output().includes('My Devices:') ? true : undefined),
    20_000,
  );
}

/** "Add a device" on `host`, the link and PIN typed into `joiner`'s "Join another device". */
export async function pair(host: MeshNode, joiner: MeshNode) {
  const offer = (await host.api('POST', '/api/pairing')).body as { url: string; pin: string; code: string };
  const joined = await joiner.api('POST', '/api/join', { link: offer.url, pin: offer.pin });
  return { offer, joined };
}
