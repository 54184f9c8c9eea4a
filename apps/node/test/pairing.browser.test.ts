import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimProcess } from '../../../tools/dongle-sim/test/harness';
import { haveChromium, launchChromium } from '../../cloud/test/chromium';
import { Client, type Json } from '../../cloud/test/harness';
import { serve } from '../../cloud/test/process';
import { freePort, type start, tempDirs } from './cli-process';
import { discoveryEnv, startDongles, startLoopbackNode, wrongPin } from './dongle-rig';

// The dongle page's owner actions in Chromium, against the real chain: the dashboard → canopy-cloud → WS →
// canopy-node (discovery on `lo` only) → REMP over UDP → canopy-dongle-sim. The PIN is read from the
// simulator's control interface, as a user would read it off the dongle.
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/pairing/', import.meta.url));
const chromiumHere = haveChromium('the pairing browser test');
const USER = 'owner@example.com';
const PASSWORD = 'correct horse battery';

describe.runIf(chromiumHere)('pairing and owning a simulated dongle in the dashboard', () => {
  const dirs = tempDirs();
  const discoveryPort = randomInt(40_000, 50_000);
  let server: Awaited<ReturnType<typeof serve>>;
  let browser: Browser;
  let node: ReturnType<typeof start> | undefined;
  let sim: SimProcess | undefined;
  let page: Page;
  /** device id → the cloud's dongle id */
  let ids = new Map<string, string>();
  const nodeEnv = discoveryEnv(dirs, discoveryPort);
  const device = (i: number) => sim?.dongles[i]?.deviceId as string;
  /** What the simulator's control interface says about dongle i. */
  const simState = async (i: number): Promise<Json> => {
    if (!sim) throw new Error('the simulator is not running');
    return (await sim.api<Json>('GET', `/dongles/${device(i)}`)).body;
  };
  const pinOf = async (i: number) => (await simState(i)).pairing.pin as string;

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const port = await freePort();
    server = await serve({
      CANOPY_DATA_DIR: path.join(dirs.root, 'cloud'),
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
    });
    browser = await launchChromium();
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
  });

  afterAll(async () => {
    await sim?.stop();
    await browser?.close();
    await node?.stop('SIGTERM');
    await server?.stop();
    dirs.cleanup();
  });

  /** The whole page, from the top: a full-page shot of a scrolled page draws the sticky header mid-page. */
  async function shot(name: string) {
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  }

  /** The owner's node on this machine, and the simulator with two dongles it hears on `lo`. */
  async function nodeAndDongles() {
    const owner = new Client(server.url);
    expect((await owner.login(USER, PASSWORD)).status).toBe(200);
    ({ node } = await startLoopbackNode({ cloudUrl: server.url, owner, env: nodeEnv, dirs }));
    ({ sim, ids } = await startDongles({ owner, discoveryPort, count: 2 }));
  }

  async function openDongle(i: number) {
    await page.goto(`/dongles/${ids.get(device(i))}`);
    await page.locator(`[data-device-id="${device(i)}"]`).waitFor();
    await page.getByRole('heading', { name: 'Seen by your nodes' }).waitFor();
  }

  it('signs up, pairs a dongle with the PIN it shows, applies a CAN configuration and runs a command', async () => {
    await page.goto('/signup');
    await page.getByLabel('Email').fill(USER);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await nodeAndDongles();

    await openDongle(0);
    await page.getByText('Not paired with your account').waitFor();
    await page.getByRole('button', { name: 'Pair this dongle' }).waitFor();
    await expect.poll(() => page.getByRole('button', { name: 'Pair this dongle' }).isEnabled()).toBe(true);
    await shot('01-not-paired');

    await page.getByRole('button', { name: 'Pair this dongle' }).click();
    const dialog = page.getByRole('dialog', { name: 'Pair this dongle' });
    await dialog.getByText(/Pairing mode ends in [12]:\d\d/).waitFor();
    const pinField = dialog.getByLabel('PIN');
    await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('pairing-pin');
    await shot('02-pairing-dialog');

    // Typed with a space, as read off a display: only the digits count. Enter submits.
    const pin = await pinOf(0);
    await pinField.pressSequentially(`${pin.slice(0, 3)} ${pin.slice(3)}`);
    expect(await pinField.inputValue()).toBe(pin);
    await pinField.press('Enter');
    await dialog.getByText('Paired. This dongle is yours now.').waitFor({ timeout: 15_000 });
    await shot('03-paired');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('heading', { name: 'CAN configuration' }).waitFor();
    await page.getByRole('button', { name: 'Unpair' }).waitFor();
    expect((await simState(0)).paired).toBe(true);

    // Client-side checks first, then the dongle's ACK.
    await page.getByLabel('Sample point (‰)').fill('990');
    await page.getByRole('button', { name: 'Apply configuration' }).click();
    await page.getByText('Sample point must be a whole number from 500 to 950.').waitFor();
    await page.getByLabel('Sample point (‰)').fill('800');
    await page.getByLabel('Bitrate').selectOption({ label: '250 kbit/s' });
    await page.getByLabel('Mode').selectOption({ label: 'Listen only' });
    await page.getByText('Advanced: raw bit timing').click();
    await page.getByLabel('Automatic retransmission').uncheck();
    await page.getByRole('button', { name: 'Apply configuration' }).click();
    const ack = page.getByText(/^Applied at .+ — the dongle runs: 250 kbit\/s, 80 %, listen only/);
    await ack.waitFor({ timeout: 15_000 });
    expect((await simState(0)).can_config).toMatchObject({ bitrate: 250_000, mode: 'listen_only' });
    await shot('04-can-config-applied');

    await page.getByLabel('Command', { exact: true }).selectOption('remote status');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const item = page.locator('[data-command-id]').first();
    await item.getByText('Done', { exact: true }).waitFor({ timeout: 15_000 });
    expect(await item.locator('code').first().textContent()).toBe('remote status');
    expect((await item.locator('pre.output').first().textContent())?.length).toBeGreaterThan(10);
    await shot('05-command-done');
  });

  it('says how many tries are left after a wrong PIN, and holds the dongle after the fifth', async () => {
    await openDongle(1);
    await page.getByRole('button', { name: 'Pair this dongle' }).click();
    const dialog = page.getByRole('dialog', { name: 'Pair this dongle' });
    const pinField = dialog.getByLabel('PIN');
    await pinField.waitFor();
    const wrong = wrongPin(await pinOf(1));
    await pinField.fill(wrong);
    await dialog.getByRole('button', { name: 'Pair', exact: true }).click();
    await dialog.getByText("That PIN doesn't match — 4 tries left.").waitFor({ timeout: 15_000 });
    expect(await pinField.inputValue()).toBe('');
    await shot('06-wrong-pin');

    for (const left of [3, 2, 1]) {
      await pinField.fill(wrong);
      await pinField.press('Enter');
      await dialog.getByText(`— ${left} ${left === 1 ? 'try' : 'tries'} left.`).waitFor({ timeout: 15_000 });
    }
    await pinField.fill(wrong);
    await pinField.press('Enter');
    await dialog
      .getByText('Too many wrong PINs: this dongle is on security hold. Contact support.')
      .waitFor({ timeout: 15_000 });
    expect(await dialog.getByRole('button', { name: 'Start again' }).count()).toBe(0);
    await shot('07-too-many-pins');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('alert').getByText('Security hold — contact support').first().waitFor();
    expect(await page.getByRole('button', { name: 'Pair this dongle' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Unpair' }).count()).toBe(0);
    await shot('08-security-hold');
  });

  it('asks to pair again once the dongle was reset, and unpairs after saying what that means', async () => {
    await sim?.api('POST', `/dongles/${device(0)}/factory-reset`);
    await openDongle(0);
    await page.getByLabel('Command', { exact: true }).selectOption('help');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page
      .getByText('This dongle was reset and no longer knows its Canopy token. Pair it again.')
      .first()
      .waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Pair this dongle' }).waitFor();
    expect(await page.getByRole('heading', { name: 'CAN configuration' }).count()).toBe(0);
    await shot('09-reset-detected');

    await page.getByRole('button', { name: 'Unpair' }).click();
    const confirm = page.getByRole('dialog', { name: 'Unpair this dongle?' });
    await confirm.getByText('you no longer own it').waitFor();
    await shot('10-unpair-confirm');
    await confirm.getByRole('button', { name: 'Unpair' }).click();
    await page.getByText('Not paired with your account').waitFor({ timeout: 15_000 });
    await shot('11-unpaired');

    // A dongle nobody hears can't enter pairing mode: the button says why it is disabled.
    await sim?.stop();
    sim = undefined;
    await page.getByText(/^None of your nodes can reach this dongle right now/).waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: 'Pair this dongle' }).isDisabled()).toBe(true);
    await shot('12-offline');
  });
});
