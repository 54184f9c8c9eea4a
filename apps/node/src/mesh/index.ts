import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { VERSION } from '../system';
import { startBackground } from './background';
import { loadOrCreateIdentity, saveIdentity } from './identity';
import { TokenSealer } from './secrets';
import { type MeshServer, startMeshServer } from './server';
import { MeshService } from './service';
import { MeshStore } from './store';
import { loadOrCreateTls } from './tls';

export { MeshFailure, MeshService } from './service';

export interface RunningMesh {
  service: MeshService;
  server: MeshServer;
  /** The owner's page. */
  uiUrl: string;
  /** For /health and `canopy-node status`: the ports and the paired devices by status (no token, no key). */
  status(): MeshStatus;
  stop(): Promise<void>;
}

export type MeshStatus =
  | { enabled: false; error?: string }
  | { enabled: true; port: number; uiUrl: string; devices: Record<string, number> };

/**
 * Starts the device mesh: identity, certificate, store (migrated), the two listeners and the background
 * loops. A taken port rejects with an error that says so; the caller decides whether the node goes on.
 */
export async function startMesh(options: {
  home: string;
  /** The mesh settings, and the node's cloud id and name (the mesh identity takes them when there are some). */
  config: Pick<Config, 'mesh' | 'nodeId' | 'nodeName'>;
  log: Logger;
}): Promise<RunningMesh> {
  const { home, log } = options;
  const settings = options.config.mesh;
  const identity = loadOrCreateIdentity(home, {
    cloudNodeId: options.config.nodeId,
    name: options.config.nodeName,
  });
  const tls = await loadOrCreateTls(home, `canopy-node ${identity.name}`);
  const sealer = await TokenSealer.open(home);
  const store = new MeshStore(path.join(home, 'mesh.db'));
  const service = new MeshService({
    store,
    sealer,
    identity,
    tls,
    capabilities: settings.capabilities,
    metadata: { version: VERSION, platform: process.platform },
    inbox: settings.inbox ?? path.join(home, 'inbox'),
    maxFileBytes: settings.maxFileMb * 1024 * 1024,
    log,
    saveIdentity: (changed) => saveIdentity(home, changed),
  });
  let server: MeshServer;
  try {
    server = await startMeshServer({
      service,
      tls,
      host: settings.host,
      port: settings.port,
      uiPort: settings.uiPort,
    });
  } catch (err) {
    store.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      throw new Error(
        `the device mesh could not start: port ${settings.port} or ${settings.uiPort} is already in use (set mesh.port / mesh.uiPort in config.json, or mesh.enabled false)`,
        { cause: err },
      );
    }
    throw err;
  }
  service.advertise = { hostname: settings.advertiseHost ?? lanAddress(), port: server.port };
  const stopBackground = startBackground(service);
  const uiUrl = `http://127.0.0.1:${server.uiPort}/`;
  log.info(
    { port: server.port, uiPort: server.uiPort, nodeId: identity.id, fingerprint: tls.fingerprint },
    `device mesh on https://${settings.host}:${server.port}; My Devices at ${uiUrl}`,
  );
  return {
    service,
    server,
    uiUrl,
    status: () => {
      const devices: Record<string, number> = {};
      for (const d of service.devices()) devices[d.status] = (devices[d.status] ?? 0) + 1;
      return { enabled: true, port: server.port, uiUrl, devices };
    },
    stop: async () => {
      stopBackground();
      await server.close();
      store.close();
    },
  };
}

/** The first non-internal IPv4 address, which the pairing link carries; the hostname when there is none. */
export function lanAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return os.hostname();
}
