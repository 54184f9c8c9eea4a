import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliContext } from './context';
import { parseEnv } from './env';
import { CliError } from './errors';
import { logs } from './logs';

const temps: string[] = [];
const tempHome = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-cli-'));
  temps.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('parseEnv', () => {
  it('reads CANOPY_NODE_HOME, else ~/.canopy-node', () => {
    expect(parseEnv({ CANOPY_NODE_HOME: '/tmp/x/../y' }).home).toBe(path.resolve('/tmp/y'));
    expect(parseEnv({}).home).toBe(path.join(os.homedir(), '.canopy-node'));
    expect(parseEnv({ CANOPY_NODE_HOME: '  ' }).home).toBe(path.join(os.homedir(), '.canopy-node'));
  });

  it('accepts auto, keychain or file as the credential store, and nothing else', () => {
    expect(parseEnv({}).credentialStore).toBe('auto');
    expect(parseEnv({ CANOPY_NODE_CREDENTIAL_STORE: 'FILE' }).credentialStore).toBe('file');
    expect(() => parseEnv({ CANOPY_NODE_CREDENTIAL_STORE: 'vault' })).toThrow(CliError);
  });
});

describe('parseEnv: discovery', () => {
  it('reads the switch, the interface allowlist, the port and the debug flag', () => {
    expect(parseEnv({}).discovery).toEqual({ debug: false });
    expect(
      parseEnv({
        CANOPY_DISCOVERY: 'on',
        CANOPY_DISCOVERY_INTERFACES: ' lo, veth-cnp0 ,',
        CANOPY_DISCOVERY_PORT: '45001',
        BRIDGE_AGENT_DEBUG_DISCOVERY: '1',
      }).discovery,
    ).toEqual({ enabled: true, interfaces: ['lo', 'veth-cnp0'], port: 45001, debug: true });
    expect(parseEnv({ CANOPY_DISCOVERY: 'OFF' }).discovery.enabled).toBe(false);
  });

  it('refuses values it cannot use, naming the variable', () => {
    expect(() => parseEnv({ CANOPY_DISCOVERY: 'sometimes' })).toThrow(/CANOPY_DISCOVERY must be on or off/);
    expect(() => parseEnv({ CANOPY_DISCOVERY_PORT: '70000' })).toThrow(/CANOPY_DISCOVERY_PORT/);
    expect(() => parseEnv({ CANOPY_DISCOVERY_INTERFACES: 'eth0;rm -rf' })).toThrow(/not an interface name/);
  });
});

describe('canopy-node logs', () => {
  const entry = (msg: string) => `${JSON.stringify({ level: 30, time: '2026-02-20T10:00:00.000Z', msg })}\n`;
  const context = (home: string, out: string[]): CliContext => ({
    env: { home, credentialStore: 'file', color: false, discovery: { debug: false } },
    stdout: { write: (t: string) => out.push(t) },
    stderr: { write: () => undefined },
  });

  it('prints the last N lines across files, newest last', async () => {
    const home = tempHome();
    const dir = path.join(home, 'logs');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'canopy-node-2026-02-19.log'), entry('a') + entry('b'));
    fs.writeFileSync(path.join(dir, 'canopy-node-2026-02-20.log'), entry('c'));
    fs.writeFileSync(path.join(dir, 'canopy-node-2026-02-20-1.log'), entry('d'));
    const out: string[] = [];
    await logs(context(home, out), { lines: 3, follow: false, json: true });
    expect(out.map((l) => JSON.parse(l).msg)).toEqual(['b', 'c', 'd']);
  });

  it('says when there are no logs yet', async () => {
    const out: string[] = [];
    await logs(context(tempHome(), out), { lines: 10, follow: false, json: false });
    expect(out.join('')).toMatch(/No logs yet in/);
  });

  it('follows new lines and moves to the next file when the log rotates', async () => {
    const home = tempHome();
    const dir = path.join(home, 'logs');
    fs.mkdirSync(dir, { recursive: true });
    const first = path.join(dir, 'canopy-node-2026-02-20.log');
    fs.writeFileSync(first, entry('old'));
    const out: string[] = [];
    const stop = new AbortController();
    const done = logs(context(home, out), {
      lines: 0,
      follow: true,
      json: true,
      signal: stop.signal,
      pollMs: 20,
    });
    const seen = async (n: number) => {
      for (let i = 0; i < 200 && out.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    fs.appendFileSync(first, entry('one'));
    await seen(1);
    fs.appendFileSync(first, entry('two'));
    fs.writeFileSync(path.join(dir, 'canopy-node-2026-02-20-1.log'), entry('three'));
    await seen(3);
    stop.abort();
    expect(await done).toBe(0);
    expect(out.map((l) => JSON.parse(l).msg)).toEqual(['one', 'two', 'three']);
  });
});

describe('the WebSocket URL from registration', () => {
  it("keeps the cloud's ws_url, resolving a relative one against the cloud", async () => {
    const { wsUrlFrom } = await import('./setup');
    expect(wsUrlFrom('wss://relay.example.com/ws/agent', 'https://canopy.example.com')).toBe(
      'wss://relay.example.com/ws/agent',
    );
    expect(wsUrlFrom('/ws/agent', 'https://canopy.example.com')).toBe('wss://canopy.example.com/ws/agent');
    expect(wsUrlFrom('http://127.0.0.1:8080/ws/agent', 'http://127.0.0.1:8080')).toBe(
      'ws://127.0.0.1:8080/ws/agent',
    );
  });

  it('replaces a localhost ws_url by the address the cloud was reached at', async () => {
    const { wsUrlFrom } = await import('./setup');
    expect(wsUrlFrom('ws://localhost:8080/ws/agent', 'http://192.168.1.10:8080')).toBe(
      'ws://192.168.1.10:8080/ws/agent',
    );
    expect(wsUrlFrom('ws://localhost:8080/ws/agent', 'https://canopy.example.com')).toBe(
      'wss://canopy.example.com/ws/agent',
    );
  });
});
