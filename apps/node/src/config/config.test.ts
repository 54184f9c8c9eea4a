import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from './errors';
import { updateConfig, writeConfig } from './file';
import { openConfig } from './load';
import { fixPermissions } from './permissions';
import { defaultConfig, resolveWsUrl } from './schema';

const temps: string[] = [];
const tempHome = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-config-'));
  temps.push(dir);
  return path.join(dir, 'home');
};
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const writeRaw = (home: string, value: unknown, mode = 0o600) => {
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify(value), { mode });
  fs.chmodSync(path.join(home, 'config.json'), mode);
};
const readRaw = (home: string) => JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8'));
const mode = (file: string) => fs.statSync(file).mode & 0o777;
const noStore = async () => {
  throw new Error('no token expected');
};

describe('config', () => {
  it('has the documented defaults', () => {
    expect(defaultConfig()).toEqual({
      version: 2,
      nodeId: null,
      nodeName: null,
      cloudUrl: 'http://localhost:8080',
      wsUrl: null,
      logLevel: 'info',
      logMaxFiles: 7,
      logMaxSizeMb: 10,
      healthPort: 9847,
      enablePollingFallback: true,
      features: {},
      tasks: {
        policy: 'allowlist',
        allowlist: { types: ['status_ping', 'system_info', 'file_read'], shellCommands: [] },
        workspaceRoot: null,
      },
      discovery: { enabled: true, interfaces: null, port: 50000 },
      mesh: {
        enabled: true,
        host: '0.0.0.0',
        port: 9848,
        uiPort: 9849,
        advertiseHost: null,
        capabilities: ['files.receive', 'always_on'],
        maxFileMb: 100,
        inbox: null,
      },
      credentialStore: null,
    });
  });

  it('derives the WebSocket URL from the cloud URL unless one is set', () => {
    expect(resolveWsUrl({ cloudUrl: 'http://localhost:8080', wsUrl: null })).toBe(
      'ws://localhost:8080/ws/agent',
    );
    expect(resolveWsUrl({ cloudUrl: 'https://canopy.example.com/base/', wsUrl: null })).toBe(
      'wss://canopy.example.com/base/ws/agent',
    );
    expect(resolveWsUrl({ cloudUrl: 'http://x', wsUrl: 'wss://relay.example.com/ws' })).toBe(
      'wss://relay.example.com/ws',
    );
  });

  it('opens a fresh home with the defaults and writes nothing', async () => {
    const home = tempHome();
    const opened = await openConfig(home, noStore);
    expect(opened.exists).toBe(false);
    expect(opened.config).toEqual(defaultConfig());
    expect(fs.existsSync(home)).toBe(false);
  });

  it('names the file and the field of an invalid setting', async () => {
    const home = tempHome();
    writeRaw(home, { version: 2, logLevel: 'verbose', healthPort: 70000, tasks: { policy: 'yolo' } });
    const err = await openConfig(home, noStore).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as ConfigError).message;
    expect(message).toContain(path.join(home, 'config.json'));
    expect(message).toMatch(/logLevel: .*"verbose"/);
    expect(message).toMatch(/healthPort: .*70000/);
    expect(message).toMatch(/tasks\.policy: .*"yolo"/);
  });

  it('says so when the file is not JSON, or from a newer version', async () => {
    const home = tempHome();
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(path.join(home, 'config.json'), '{ "version": 2, ');
    await expect(openConfig(home, noStore)).rejects.toThrow(/config\.json: is not valid JSON/);
    writeRaw(home, { version: 3 });
    await expect(openConfig(home, noStore)).rejects.toThrow(/version: 3 is not a version this canopy-node/);
  });

  it('narrows a config file and home that others can read, and says what it changed', async () => {
    const home = tempHome();
    writeRaw(home, { version: 2 }, 0o644);
    fs.chmodSync(home, 0o755);
    fs.mkdirSync(path.join(home, 'logs'), { mode: 0o755 });
    fs.chmodSync(path.join(home, 'logs'), 0o755);
    fs.writeFileSync(path.join(home, 'logs', 'canopy-node-2026-01-01.log'), '', { mode: 0o644 });
    fs.chmodSync(path.join(home, 'logs', 'canopy-node-2026-01-01.log'), 0o644);

    const opened = await openConfig(home, noStore);
    expect(mode(home)).toBe(0o700);
    expect(mode(path.join(home, 'config.json'))).toBe(0o600);
    expect(mode(path.join(home, 'logs'))).toBe(0o700);
    expect(mode(path.join(home, 'logs', 'canopy-node-2026-01-01.log'))).toBe(0o600);
    expect(opened.notices.join('\n')).toMatch(
      /config\.json was readable by others \(mode 0644\): changed to 0600/,
    );
    expect(fixPermissions(home)).toEqual([]);
  });

  it('moves the plaintext key of a v0.1 config into the credential store', async () => {
    const home = tempHome();
    writeRaw(
      home,
      {
        apiKey: 'cnt_v1plaintextkey',
        wsUrl: 'wss://ws.example.com/ws',
        apiUrl: 'https://api.example.com',
        nodeId: 'nd_1',
      },
      0o644,
    );
    const store = vi.fn(async (_token: string) => 'file' as const);
    const opened = await openConfig(home, store);

    expect(store).toHaveBeenCalledWith('cnt_v1plaintextkey');
    expect(opened.migrated).toBe(true);
    const text = fs.readFileSync(path.join(home, 'config.json'), 'utf8');
    expect(text).not.toContain('cnt_v1plaintextkey');
    expect(readRaw(home)).toMatchObject({
      version: 2,
      nodeId: 'nd_1',
      cloudUrl: 'https://api.example.com',
      wsUrl: 'wss://ws.example.com/ws',
      credentialStore: 'file',
    });
    expect(readRaw(home)).not.toHaveProperty('apiKey');
    expect(readRaw(home)).not.toHaveProperty('apiUrl');
    expect(opened.notices.join('\n')).toMatch(/run `canopy-node install` to enable auto-start/i);
    // Upgraded once: the next start finds a version-2 file.
    const again = await openConfig(home, noStore);
    expect(again.migrated).toBe(false);
  });

  it('keeps the v1 file untouched when the key cannot be stored', async () => {
    const home = tempHome();
    writeRaw(home, { version: 1, apiKey: 'cnt_keepme' });
    await expect(
      openConfig(home, async () => {
        throw new Error('store broken');
      }),
    ).rejects.toThrow('store broken');
    expect(readRaw(home)).toEqual({ version: 1, apiKey: 'cnt_keepme' });
  });

  it('drops old settings that are no longer valid instead of refusing to upgrade', async () => {
    const home = tempHome();
    writeRaw(home, { apiKey: 'cnt_k', apiUrl: 'not a url', logLevel: 'loud', enableVault: true });
    const opened = await openConfig(home, async () => 'keychain');
    expect(opened.config.cloudUrl).toBe('http://localhost:8080');
    expect(opened.config.logLevel).toBe('info');
    expect(opened.notices.join('\n')).toMatch(/dropped the old setting logLevel/);
    // Unknown keys are kept in the file (an older or newer release may use them) and reported.
    expect(readRaw(home).enableVault).toBe(true);
    expect(opened.notices.join('\n')).toMatch(/unknown setting enableVault ignored/);
  });

  it('writes atomically with mode 0600 and keeps unknown keys on update', () => {
    const home = tempHome();
    writeConfig(home, defaultConfig(), { futureSetting: 1 });
    const updated = updateConfig(home, { nodeId: 'abc', logLevel: 'debug' });
    expect(updated.nodeId).toBe('abc');
    expect(readRaw(home)).toMatchObject({ nodeId: 'abc', logLevel: 'debug', futureSetting: 1 });
    expect(mode(path.join(home, 'config.json'))).toBe(0o600);
    expect(mode(home)).toBe(0o700);
    expect(fs.readdirSync(home)).toEqual(['config.json']);
    expect(() => updateConfig(home, { logLevel: 'loud' as never })).toThrow(/logLevel/);
    expect(readRaw(home).logLevel).toBe('debug');
  });
});
