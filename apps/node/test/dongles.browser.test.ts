import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimProcess as RunningSim, startSim } from '../../../tools/dongle-sim/test/harness';
import { haveChromium, launchChromium } from '../../cloud/test/chromium';
import { Client } from '../../cloud/test/harness';
import { serve } from '../../cloud/test/process';
import { freePort, type start, tempDirs } from './cli-process';
import { discoveryEnv, startLoopbackNode } from './dongle-rig';

// The Dongles page in Chromium, fed by the real chain: canopy-dongle-sim → canopy-node (discovery on `lo`
// only) → canopy-cloud → the dashboard. Goal (issue 5): a dongle shows within 5 s of the simulator starting.
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/dongles/', import.meta.url));
const chromiumHere = haveChromium('the Dongles browser test');
const USER = 'mechanic@example.com';
const PASSWORD = 'correct horse battery';

describe.runIf(chromiumHere)('the Dongles page with a simulated dongle', () => {
  const dirs = tempDirs();
  const discoveryPort = randomInt(40_000, 50_000);
  let server: Awaited<ReturnType<typeof serve>>;
  let browser: Browser;
  let node: ReturnType<typeof start> | undefined;
  let sim: RunningSim | undefined;
  const nodeEnv = { ...discoveryEnv(dirs, discoveryPort), BRIDGE_AGENT_DEBUG_DISCOVERY: '1' };

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const port = await freePort();
    server = await serve({
      CANOPY_DATA_DIR: path.join(dirs.root, 'cloud'),
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
    });
    const owner = new Client(server.url);
    await owner.signup(USER, PASSWORD);
    ({ node } = await startLoopbackNode({ cloudUrl: server.url, owner, env: nodeEnv, dirs }));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await sim?.stop();
    await browser?.close();
    await node?.stop('SIGTERM');
    await server?.stop();
    dirs.cleanup();
  });

  async function shot(page: Page, name: string) {
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  }

  it('shows a dongle within 5 s of the simulator starting, then its pairing mode, then offline', async () => {
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto('/login');
    await page.getByLabel('Email').fill(USER);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Dongles' }).click();
    await page.getByText('Looking for dongles on your network…').waitFor();
    await shot(page, '01-looking');

    const started = Date.now();
    sim = await startSim([
      '--count',
      '1',
      '--discovery-port',
      String(discoveryPort),
      '--remp-port-base',
      '0',
      '--seed',
      randomBytes(4).toString('hex'),
    ]);
    const deviceId = sim.dongles[0]?.deviceId as string;
    const row = page.locator(`[data-device-id="${deviceId}"]`);
    await row.waitFor({ timeout: 10_000 }).catch((err) => {
      const dir = path.join(dirs.home, 'logs');
      for (const f of fs.readdirSync(dir))
        console.log(fs.readFileSync(path.join(dir, f), 'utf8').slice(-6000));
      throw err;
    });
    const shownAfterMs = Date.now() - started;
    console.log(`the dongle showed on the Dongles page ${shownAfterMs} ms after the simulator started`);
    expect(shownAfterMs).toBeLessThanOrEqual(5000);
    for (const text of ['Online', '127.0.0.1', 'sim-2026.11', 'garage-pc', 'Not claimed']) {
      await row.getByText(text).first().waitFor();
    }
    await shot(page, '02-found');

    const pressed = await fetch(`${sim.control}/dongles/${deviceId}/pairing-mode`, { method: 'POST' });
    expect(pressed.status).toBe(200);
    await row.getByText('Pairing mode').waitFor({ timeout: 10_000 });
    await shot(page, '03-pairing-mode');

    await row.getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Seen by your nodes' }).waitFor();
    await page.getByRole('cell', { name: 'lo', exact: true }).waitFor();
    await shot(page, '04-detail');
    await page.goBack();

    await sim.stop();
    sim = undefined;
    await row.getByText('Offline').waitFor({ timeout: 20_000 });
    await shot(page, '05-offline');
    await context.close();
  });
});
