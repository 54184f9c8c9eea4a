import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../cloud/test/backends';
import { Client } from '../../cloud/test/harness';
import { serve } from '../../cloud/test/process';
import { freePort, run, start, tempDirs, waitFor } from './cli-process';
import { TcpProxy } from './tcp-proxy';

// canopy-node (built, a real process) ↔ a TCP proxy the test controls ↔ canopy-cloud (built, a real process).
// Timings are the real ones of spec 000: backoff 1, 2, 4, 8 … s, pings every 25 s with a 10 s pong timeout.
const PASSWORD = 'correct horse battery';
type Health = {
  status: string;
  connection: string;
  reconnects: number;
  wsConnected: boolean;
  lastError: string | null;
};

describe.each(await backends())('canopy-node ↔ cloud through a faulty network, cloud on $name', (backend) => {
  const dirs = tempDirs();
  const cloudDir = path.join(dirs.root, 'cloud');
  const workspace = path.join(dirs.root, 'workspace');
  let cloudEnv: Record<string, string>;
  let cloud: Awaited<ReturnType<typeof serve>>;
  let cleanupBackend: () => Promise<void> = async () => {};
  let proxy: TcpProxy;
  let owner: Client;
  let agentId: string;
  let healthPort: number;
  let node: ReturnType<typeof start> | undefined;
  const nodeEnv = { CANOPY_NODE_HOME: dirs.home, HOME: dirs.userHome };

  const health = async (): Promise<Health | undefined> => {
    try {
      return (await (await fetch(`http://127.0.0.1:${healthPort}/health`)).json()) as Health;
    } catch {
      return undefined;
    }
  };
  const until = (what: string, pred: (h: Health) => boolean, ms: number) =>
    waitFor(
      what,
      async () => {
        const h = await health();
        return h && pred(h) ? h : undefined;
      },
      ms,
    );
  const task = async (id: string) => (await owner.get(`/api/v1/agents/${agentId}/tasks/${id}`)).body.task;
  const startNode = () => {
    node = start(['daemon'], nodeEnv);
    return until('the node to connect', (h) => h.connection === 'connected', 20_000);
  };
  const stopNode = async () => {
    expect(await node?.stop('SIGTERM')).toBe(0);
    node = undefined;
  };

  beforeAll(async () => {
    fs.mkdirSync(workspace, { recursive: true });
    const port = await freePort();
    proxy = new TcpProxy(port);
    const proxyPort = await proxy.listen();
    // The cloud's public address is the proxy: the ws_url it gives the node must lead through it too.
    cloudEnv = {
      CANOPY_DATA_DIR: cloudDir,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${proxyPort}`,
      AGENT_SESSION_TTL_S: '5',
      LOG_LEVEL: 'debug',
    };
    if (backend.name === 'postgres+redis') {
      // A fresh database of its own; the cloud process connects to it by URL.
      const opened = await backend.open();
      cloudEnv.DATABASE_URL = opened.databaseUrl ?? '';
      cloudEnv.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
      cloudEnv.REDIS_KEY_PREFIX = `canopy-e2e-${randomBytes(4).toString('hex')}:`;
      cleanupBackend = opened.cleanup;
    }
    cloud = await serve(cloudEnv);

    owner = new Client(cloud.url);
    await owner.signup('owner@example.com', PASSWORD);
    const key = (await owner.post('/api/v1/agents/enrollment-keys', { label: 'e2e' })).body.secret as string;
    const setup = await run(['setup', '-', '--cloud', `http://127.0.0.1:${proxyPort}`], nodeEnv, `${key}\n`);
    expect(setup.code, setup.stderr).toBe(0);
    healthPort = await freePort();
    const configFile = path.join(dirs.home, 'config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    config.healthPort = healthPort;
    config.tasks = { ...config.tasks, policy: 'trusted', workspaceRoot: workspace };
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
    agentId = config.nodeId;
    await startNode();
  });

  afterAll(async () => {
    await node?.stop('SIGTERM');
    await proxy?.close();
    await cloud?.stop();
    await cleanupBackend();
    dirs.cleanup();
  });

  it('keeps a 5-second session token fresh without disconnecting', async () => {
    expect(proxy.openConnections).toBeGreaterThan(0);
    const before = await health();
    await new Promise((r) => setTimeout(r, 12_000)); // more than two token lifetimes
    const after = await health();
    expect(after?.connection).toBe('connected');
    expect(after?.reconnects).toBe(before?.reconnects);
    const agent = (await owner.get(`/api/v1/agents/${agentId}`)).body.agent;
    expect(agent).toMatchObject({ online: true, connection_type: 'ws' });
  });

  it('runs a task queued while the node was offline exactly once after it returns', async () => {
    await stopNode();
    expect((await owner.get(`/api/v1/agents/${agentId}`)).body.agent.online).toBe(false);
    const counter = path.join(workspace, 'runs.txt');
    const created = await owner.post(`/api/v1/agents/${agentId}/tasks`, {
      type: 'shell',
      payload: { command: `echo run >> "${counter}"` },
    });
    expect(created.status).toBe(201);
    await startNode();
    const done = await waitFor('the task to finish', async () => {
      const t = await task(created.body.task.id);
      return t.status === 'done' ? t : undefined;
    });
    expect(done.result.exit_code).toBe(0);
    // Restarting again must not run it a second time.
    await stopNode();
    await startNode();
    await new Promise((r) => setTimeout(r, 1500));
    expect(fs.readFileSync(counter, 'utf8')).toBe('run\n');
    expect((await task(created.body.task.id)).status).toBe('done');
  });

  it('is CONNECTED again within 2 s of the cloud returning after a crash', async () => {
    const before = (await health())?.reconnects ?? 0;
    await cloud.stop('SIGKILL');
    cloud = await serve(cloudEnv);
    const back = Date.now();
    const after = await until(
      'the node to reconnect',
      (h) => h.connection === 'connected' && h.reconnects > before,
      10_000,
    );
    const ms = Date.now() - back;
    console.log(`reconnected ${ms} ms after the cloud answered /healthz again`);
    expect(after.reconnects).toBe(before + 1);
    expect(ms).toBeLessThanOrEqual(2000);
  });

  it('falls back to polling when WebSockets are blocked, still gets tasks, and returns to WS', async () => {
    proxy.setMode('refuse');
    proxy.setMode('no-websocket');
    const polling = await until('POLLING after 5 WS failures', (h) => h.connection === 'polling', 40_000);
    expect(polling.status).toBe('healthy');
    const created = await owner.post(`/api/v1/agents/${agentId}/tasks`, { type: 'status_ping', payload: {} });
    const done = await waitFor(
      'the task over the poll',
      async () => {
        const t = await task(created.body.task.id);
        return t.status === 'done' ? t : undefined;
      },
      30_000,
    );
    expect(done.result).toMatchObject({ pong: true });
    expect((await owner.get(`/api/v1/agents/${agentId}`)).body.agent.connection_type).toBe('poll');
    proxy.setMode('pass');
    await until('back on the WebSocket', (h) => h.connection === 'connected', 70_000);
  }, 150_000);

  it('detects a half-open connection by the ping timeout and reconnects', async () => {
    const before = (await health())?.reconnects ?? 0;
    proxy.blackhole();
    const back = await until(
      'a reconnect after the stale connection',
      (h) => h.connection === 'connected' && h.reconnects > before,
      50_000,
    );
    expect(back.reconnects).toBe(before + 1);
  }, 60_000);

  it('leaves no token or key in any log file', async () => {
    await stopNode();
    const logs = fs
      .readdirSync(path.join(dirs.home, 'logs'))
      .map((f) => fs.readFileSync(path.join(dirs.home, 'logs', f), 'utf8'))
      .join('\n');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toMatch(/cn[pts]_[A-Za-z0-9_-]{20,}/);
    expect(cloud.output()).not.toMatch(/cn[pts]_[A-Za-z0-9_-]{20,}/);
  });
});
