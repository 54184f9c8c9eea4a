import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

// These tests run the built CLI as a real process (`npm run build -w @canopy/node` first; npm test does).
export const BIN = fileURLToPath(new URL('../bin/canopy-node.js', import.meta.url));

export type Run = { code: number | null; stdout: string; stderr: string };

/** A temp folder holding a node home and a user home; never the real ~/.canopy-node. */
export function tempDirs() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-node-cli-'));
  return {
    root,
    home: path.join(root, 'node-home'),
    userHome: path.join(root, 'user-home'),
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const {
    CANOPY_NODE_HOME: _h,
    CANOPY_NODE_CREDENTIAL_STORE: _c,
    DBUS_SESSION_BUS_ADDRESS: _d,
    ...rest
  } = process.env;
  // The file store: a developer's real keychain stays out of the tests. Discovery is off unless a test turns
  // it on for loopback or its own network namespace (a broadcast on the real interface leaves the machine).
  // The device mesh is off unless a test turns it on (with its own ports on 127.0.0.1).
  return {
    ...rest,
    CANOPY_NODE_CREDENTIAL_STORE: 'file',
    NO_COLOR: '1',
    CANOPY_DISCOVERY: 'off',
    CANOPY_MESH: 'off',
    ...env,
  };
}

export function run(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdin.end(stdin ?? '');
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running command (connect, daemon); output is collected for assertions. */
export function start(args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { env: childEnv(env) });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
}

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 15_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export const AGENT_ID = '7e0b8d1c-2f4a-4b6e-9c3d-1a2b3c4d5e6f';
export const AGENT_TOKEN = 'cnt_agent_token_never_printed_0123456789';
export const GOOD_KEY = 'cnp_enrollment_key_never_printed_0123';
export const SPENT_KEY = 'cnp_spent_key_0123456789';

/**
 * A stand-in for the cloud's agent endpoints on 127.0.0.1: registration, a WebSocket that welcomes, and the
 * HTTP calls a connected node makes. Records what it was sent.
 */
export async function fakeCloud() {
  const requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: unknown }[] = [];
  const frames: unknown[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d) => {
      text += d;
    });
    req.on('end', () => {
      const body = text ? JSON.parse(text) : null;
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.url === '/api/v1/agents/register') {
        if (body?.enrollment_key !== GOOD_KEY) {
          return json(401, { code: 'ENROLLMENT_KEY_INVALID', message: 'unknown key', details: {} });
        }
        return json(201, { agent_id: AGENT_ID, agent_token: AGENT_TOKEN, ws_url: `${wsBase()}/ws/agent` });
      }
      if (req.url?.startsWith('/api/v1/agents/')) return json(200, { server_time: new Date().toISOString() });
      json(404, { code: 'NOT_FOUND', message: 'not found', details: {} });
    });
  });
  const wss = new WebSocketServer({ server, path: '/ws/agent' });
  wss.on('connection', (socket, req) => {
    requests.push({ method: 'GET', url: req.url ?? '', headers: req.headers, body: null });
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    socket.send(
      JSON.stringify({
        type: 'welcome',
        agent_id: AGENT_ID,
        name: 'test-node',
        token: 'cns_session_token_never_printed',
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
        server_time: new Date().toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const wsBase = () => `ws://127.0.0.1:${port}`;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    frames,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
