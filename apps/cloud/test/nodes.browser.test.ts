import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloudMessage, RegisterResponse, TaskMessage, TaskUpdate } from '@canopy/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { haveChromium, launchChromium } from './chromium';
import { serve } from './process';

// The built server and dashboard (npm run build) as a real process, driven by Debian's Chromium; the node
// is played by this test over HTTP and a raw WebSocket, as canopy-node would.
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/nodes/', import.meta.url));
const PASSWORD = 'correct horse battery';
const USER = 'owner@example.com';
const FINGERPRINT = createHash('sha256').update('bench-pc machine id').digest('hex');

const chromiumHere = haveChromium('the browser test');

type Answer = Omit<TaskUpdate, 'task_id'>;

/** What the stand-in node answers to each task type it receives. */
const ANSWERS: Record<string, () => Answer> = {
  status_ping: () => ({ status: 'done', result: { pong: true, at: new Date().toISOString() } }),
  shell: () => ({
    status: 'done',
    result: {
      exit_code: 0,
      signal: null,
      stdout: 'Linux bench-pc 6.1.0-18-amd64 #1 SMP x86_64 GNU/Linux\n',
      stderr: '',
      truncated: false,
      duration_ms: 14,
    },
  }),
  system_info: () => ({
    status: 'done',
    result: {
      hostname: 'bench-pc',
      platform: 'linux',
      release: '6.1.0-18-amd64',
      arch: 'x64',
      cpus: 8,
      memory_total: 16_658_034_688,
      memory_free: 9_126_805_504,
      uptime_s: 3725,
      node_version: 'v20.19.0',
      load_avg: [0.42, 0.3, 0.25],
    },
  }),
  // Writes wait for the owner's approval on the node, under its default policy.
  file_write: () => ({ status: 'pending_approval' }),
};

/** A stand-in for canopy-node: registered over HTTP, connected over WS /ws/agent, answering tasks. */
class FakeNode {
  ws?: WebSocket;
  session = '';
  readonly received: TaskMessage['task'][] = [];

  constructor(
    readonly baseUrl: string,
    readonly agentId: string,
    readonly agentToken: string,
  ) {}

  static async register(baseUrl: string, enrollmentKey: string): Promise<FakeNode> {
    const response = await fetch(`${baseUrl}/api/v1/agents/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        enrollment_key: enrollmentKey,
        hostname: 'bench-pc',
        os: 'Linux 6.1 (x64)',
        version: '0.1.0',
        network_interfaces: [],
        fingerprint: FINGERPRINT,
      }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    const body = (await response.json()) as RegisterResponse;
    return new FakeNode(baseUrl, body.agent_id, body.agent_token);
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.baseUrl.replace(/^http/, 'ws')}/ws/agent`, {
        headers: { authorization: `Bearer ${this.agentToken}`, 'x-canopy-fingerprint': FINGERPRINT },
      });
      this.ws = ws;
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as CloudMessage;
        if (frame.type === 'welcome') {
          this.session = frame.token;
          resolve();
        }
        if (frame.type !== 'task') return;
        this.received.push(frame.task);
        this.send({ type: 'ack', cursor: frame.cursor });
        const answer = ANSWERS[frame.task.type]?.();
        if (answer) this.send({ type: 'task_update', task_id: frame.task.id, ...answer });
      });
      ws.on('unexpected-response', (_req, res) => reject(new Error(`WS refused: HTTP ${res.statusCode}`)));
      ws.on('error', reject);
    });
  }

  /** What the node reports about itself besides its connection, e.g. how long it has been up. */
  async heartbeat(uptimeS: number): Promise<void> {
    const response = await fetch(`${this.baseUrl}/api/v1/agents/heartbeat`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${this.session}`,
        'x-canopy-fingerprint': FINGERPRINT,
      },
      body: JSON.stringify({ state: 'connected', uptime_s: uptimeS, version: '0.1.0', service: 'systemd' }),
    });
    expect(response.status, await response.clone().text()).toBe(200);
  }

  send(message: unknown) {
    this.ws?.send(JSON.stringify(message));
  }

  /** A clean shutdown: tell the cloud, then close. */
  async goOffline(): Promise<void> {
    const ws = this.ws;
    if (!ws) return;
    this.send({ type: 'going_offline', reason: 'test' });
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      setTimeout(() => ws.close(1000), 1000).unref();
    });
  }
}

describe.runIf(chromiumHere)('Nodes pages in Chromium', () => {
  let dataDir: string;
  let server: Awaited<ReturnType<typeof serve>>;
  let browser: Browser;
  let node: FakeNode | undefined;

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-nodes-browser-'));
    server = await serve({ CANOPY_DATA_DIR: dataDir, PUBLIC_URL: 'http://localhost' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    node?.ws?.terminate();
    await browser?.close();
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    return context.newPage();
  }
  async function shot(page: Page, name: string) {
    // From the top, or the sticky header lands in the middle of a full-page picture.
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  }
  const codeOf = (page: Page, name: string) =>
    page.getByRole('figure', { name, exact: true }).locator('code').textContent();

  it('adds a node with an enrollment key, sees it online, runs tasks on it and removes it', async () => {
    const page = await newPage();
    await page.goto('/signup');
    await page.getByLabel('Email').fill(USER);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Nodes' }).click();
    await page.getByText('No nodes yet — create an enrollment key and follow the three steps.').waitFor();
    expect(await codeOf(page, 'Step 2 command')).toBe(`canopy-node setup <YOUR_KEY> --cloud ${server.url}`);
    expect(await page.getByRole('tab', { name: 'Linux' }).getAttribute('aria-selected')).toBe('true');
    await shot(page, '01-empty');

    // The key: created with a label, its secret shown once and filled into the steps.
    await page.getByLabel('Label').fill('Workshop bench');
    await page.getByRole('button', { name: 'Create enrollment key' }).click();
    const secret = (await codeOf(page, 'Enrollment key')) ?? '';
    expect(secret).toMatch(/^cnp_\S{20,}$/);
    await page.getByText("it won't be shown again").waitFor();
    expect(await codeOf(page, 'Step 1 command')).toBe(
      `npm install -g ${server.url}/downloads/canopy-node.tgz`,
    );
    expect(await codeOf(page, 'Step 2 command')).toBe(`canopy-node setup ${secret} --cloud ${server.url}`);
    expect(await codeOf(page, 'Step 3 command')).toBe('canopy-node install');
    const keyRow = page.getByRole('row', { name: /Workshop bench/ });
    await keyRow.getByText(`${secret.slice(0, 10)}…`).waitFor();
    await keyRow.getByRole('button', { name: 'Revoke' }).waitFor();

    await page.getByRole('figure', { name: 'Step 2 command' }).getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('figure', { name: 'Step 2 command' }).getByText('Copied').waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toContain(secret);

    await page.getByRole('tab', { name: 'Windows (PowerShell)' }).click();
    expect(await codeOf(page, 'Step 2 command')).toBe(`canopy-node setup ${secret} --cloud ${server.url}`);
    await page.getByText('Set-ExecutionPolicy').waitFor();
    await shot(page, '02-key-created-windows');
    await page.getByRole('tab', { name: 'Linux' }).click();

    // The node registers with that key and connects over WebSocket; the list catches up on its own.
    node = await FakeNode.register(server.url, secret);
    await node.connect();
    await node.heartbeat(3725);
    const row = page.getByRole('row', { name: /bench-pc/ });
    await row.getByText('Online').waitFor({ timeout: 15_000 });
    await row.getByText('WebSocket').waitFor();
    await row.getByText('Linux 6.1 (x64)').waitFor();
    await row.getByText('1 h 2 min').waitFor();
    // Run by systemd (its heartbeat says so): always on.
    await row.getByText('Always on').waitFor();
    // "last seen" counts up between refreshes.
    const lastSeen = row.getByText(/^(\d+ s ago|just now)$/);
    const first = await lastSeen.textContent();
    await expect.poll(() => lastSeen.textContent(), { timeout: 3000 }).not.toBe(first);
    // The key's "last used" follows the registration.
    await expect.poll(() => keyRow.getByText('Never').count()).toBe(0);
    await shot(page, '03-node-online');
    await page.setViewportSize({ width: 390, height: 800 });
    await shot(page, '03b-node-online-narrow');
    await page.setViewportSize({ width: 1280, height: 800 });

    // The node page: a ping answered by the node.
    await row.getByRole('link', { name: 'bench-pc' }).click();
    await page.getByRole('heading', { level: 1, name: 'bench-pc' }).waitFor();
    await page.getByText('WebSocket').waitFor();
    await page.getByText('Always on: runs as a systemd service').waitFor();
    await page.getByLabel('Task type').selectOption({ label: 'Ping' });
    await page.getByRole('button', { name: 'Run task' }).click();
    const tasks = page.getByRole('list', { name: 'Tasks, newest first' });
    await tasks.getByText('pong', { exact: true }).waitFor({ timeout: 10_000 });
    await tasks.getByRole('listitem').first().getByText('Done').waitFor();
    expect(node.received.map((task) => task.type)).toEqual(['status_ping']);

    // System info as a table, a shell command's output, and a file write that waits for approval.
    await page.getByLabel('Task type').selectOption({ label: 'System info' });
    await page.getByRole('button', { name: 'Run task' }).click();
    const info = tasks.getByRole('table', { name: 'System information' });
    await info.getByRole('row', { name: /Memory.*16 GB/ }).waitFor({ timeout: 10_000 });
    await info.getByRole('row', { name: /Uptime.*1 h 2 min/ }).waitFor();

    await page.getByLabel('Task type').selectOption({ label: 'Shell command' });
    await page.getByRole('button', { name: 'Run task' }).click();
    await page.getByText('Enter the command to run.').waitFor();
    await page.getByLabel('Command').fill('uname -a');
    await page.getByRole('button', { name: 'Run task' }).click();
    await tasks.getByText('Linux bench-pc 6.1.0-18-amd64', { exact: false }).waitFor({ timeout: 10_000 });

    await page.getByLabel('Task type').selectOption({ label: 'Write a file' });
    await page.getByLabel('Path').fill('notes/hello.txt');
    await page.getByLabel('Content').fill('Hello from the dashboard\n');
    await page.getByRole('button', { name: 'Run task' }).click();
    const waiting = tasks.getByRole('listitem').first();
    await waiting.getByText('Waiting for approval on the node').waitFor({ timeout: 10_000 });
    await waiting.getByText(/canopy-node approve [0-9a-f-]{36}/).waitFor();
    await shot(page, '04-node-tasks');

    // Rename in place.
    await page.getByRole('button', { name: 'Edit name' }).click();
    await page.getByLabel('Name').fill('Bench PC');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { level: 1, name: 'Bench PC' }).waitFor();

    // A clean shutdown shows offline within one refresh.
    await node.goOffline();
    await page.getByText('Offline').first().waitFor({ timeout: 15_000 });
    expect(await page.getByText('Online').count()).toBe(0);
    await shot(page, '05-node-offline');

    // Removal, from the node page, asks first and lands back on the empty list.
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove Bench PC?' });
    await dialog.getByText('Its token stops working at once').waitFor();
    await shot(page, '06-remove-dialog');
    await dialog.getByRole('button', { name: 'Remove node' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/nodes');
    await page.getByText('No nodes yet — create an enrollment key and follow the three steps.').waitFor();

    // Its token no longer opens the control channel.
    await expect(node.connect()).rejects.toThrow(/401/);

    // Revoking the key, from the list.
    await page
      .getByRole('row', { name: /Workshop bench/ })
      .getByRole('button', { name: 'Revoke' })
      .click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
    await page
      .getByRole('row', { name: /Workshop bench/ })
      .getByText('Revoked')
      .waitFor();
    await shot(page, '07-after-remove');
  });
});
