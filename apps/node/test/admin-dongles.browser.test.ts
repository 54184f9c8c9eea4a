import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimProcess } from '../../../tools/dongle-sim/test/harness';
import { haveChromium, launchChromium } from '../../cloud/test/chromium';
import { Client, type Json } from '../../cloud/test/harness';
import { run as cloudRun, serve } from '../../cloud/test/process';
import { freePort, type start, tempDirs, waitFor } from './cli-process';
import { discoveryEnv, pinOf as simPin, startDongles, startLoopbackNode, wrongPin } from './dongle-rig';

// The admin list of all dongles in Chromium (spec 002 §8.4, §11.3). The states are reached for real through
// canopy-cloud → WS → canopy-node (discovery on `lo` only) → REMP → canopy-dongle-sim: a hold after 5 wrong
// PINs (no owner) and one after 11 pairing starts (owned), a reset detected after a factory reset. Then a
// super_admin clears the holds and force-unpairs in the dashboard.
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/admin-dongles/', import.meta.url));
const chromiumHere = haveChromium('the admin dongles browser test');
const PASSWORD = 'correct horse battery';
const ADMIN = 'admin@example.com';
const OWNER = 'alice@example.com';

describe.runIf(chromiumHere)('the admin dongles page in the dashboard', () => {
  const dirs = tempDirs();
  const discoveryPort = randomInt(40_000, 50_000);
  let server: Awaited<ReturnType<typeof serve>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let node: ReturnType<typeof start> | undefined;
  let sim: SimProcess | undefined;
  let alice: Client;
  /** device id → the cloud's dongle id */
  let ids = new Map<string, string>();
  const nodeEnv = discoveryEnv(dirs, discoveryPort);
  const device = (i: number) => sim?.dongles[i]?.deviceId as string;
  const dongleId = (i: number) => ids.get(device(i)) as string;
  /** The PIN dongle i shows, read from the simulator's control interface as a user reads it off the dongle. */
  const pinOf = (i: number) => {
    if (!sim) throw new Error('the simulator is not running');
    return simPin(sim, device(i));
  };
  const startPairing = (i: number) =>
    alice.post(`/api/v1/dongles/${dongleId(i)}/pairing-mode`, { action: 'start' });
  const submit = (i: number, body: Json) => alice.post(`/api/v1/dongles/${dongleId(i)}/pairing-submit`, body);
  const ownership = async (i: number) =>
    (await alice.get(`/api/v1/dongles/${dongleId(i)}`)).body.dongle?.ownership_state as string | undefined;
  async function pair(i: number) {
    const started = await startPairing(i);
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const paired = await submit(i, {
      pairing_session_id: started.body.pairing_session_id,
      pin: await pinOf(i),
    });
    expect(paired.status, JSON.stringify(paired.body)).toBe(200);
  }
  /** "0011 2233 4455 6677", as the page shows it. */
  const shown = (i: number) => device(i).replace(/(.{4})(?!$)/g, '$1 ');
  const row = (i: number) => page.locator(`tr[data-device-id="${device(i)}"]`);

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const port = await freePort();
    const cloudEnv = {
      CANOPY_DATA_DIR: path.join(dirs.root, 'cloud'),
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
    };
    server = await serve(cloudEnv);
    const made = await cloudRun(['create-admin', '--email', ADMIN], cloudEnv, `${PASSWORD}\n`);
    expect(made.code, made.stderr).toBe(0);
    alice = new Client(server.url);
    await alice.signup(OWNER, PASSWORD);

    ({ node } = await startLoopbackNode({ cloudUrl: server.url, owner: alice, env: nodeEnv, dirs }));
    ({ sim, ids } = await startDongles({ owner: alice, discoveryPort, count: 5 }));

    // Dongles 0, 3 and 4 are Alice's; 2 stays unclaimed.
    for (const i of [0, 3, 4]) await pair(i);
    // Dongle 1: 5 wrong PINs from Alice, who doesn't own it.
    const held = await startPairing(1);
    expect(held.status, JSON.stringify(held.body)).toBe(200);
    const wrong = wrongPin(await pinOf(1));
    for (let attempt = 1; attempt <= 5; attempt++) {
      await submit(1, { pairing_session_id: held.body.pairing_session_id, pin: wrong });
    }
    // Dongle 3: more than 10 pairing starts in an hour, by its owner (pairing it was the first).
    for (let start = 2; start <= 11; start++) await startPairing(3);
    // Dongle 4: factory-reset; the next command finds out.
    expect((await sim.api('POST', `/dongles/${device(4)}/factory-reset`)).status).toBe(200);
    expect((await alice.post(`/api/v1/dongles/${dongleId(4)}/commands`, { command: 'help' })).status).toBe(
      202,
    );
    await waitFor('the reset to be detected', async () =>
      (await ownership(4)) === 'RESET_DETECTED' ? true : undefined,
    );
    expect([await ownership(1), await ownership(3)]).toEqual(['SECURITY_HOLD', 'SECURITY_HOLD']);

    browser = await launchChromium();
    context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
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
  async function shot(name: string, on: Page = page) {
    await on.evaluate('window.scrollTo(0, 0)');
    await on.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  }

  async function logIn(on: Page, email: string) {
    await on.goto('/login');
    await on.getByLabel('Email').fill(email);
    await on.getByLabel('Password').fill(PASSWORD);
    await on.getByRole('button', { name: 'Log in' }).click();
    await on.getByRole('button', { name: 'Log out' }).waitFor();
  }

  it('lists every dongle with its state and owner, and filters to the ones on security hold', async () => {
    await logIn(page, ADMIN);
    await page.getByRole('navigation').getByRole('link', { name: 'All dongles' }).click();
    await page.getByRole('heading', { name: 'All dongles', level: 1 }).waitFor();
    for (const i of [0, 1, 2, 3, 4]) await row(i).waitFor();
    const expected = [
      ['Claimed', OWNER, ['Force unpair']],
      ['Security hold', null, ['Clear hold']],
      ['Unclaimed', null, []],
      ['Security hold', OWNER, ['Give back to owner', 'Unpair and clear hold']],
      ['Reset detected', OWNER, ['Force unpair']],
    ] as const;
    for (const [i, [state, owner, buttons]] of expected.entries()) {
      await row(i).getByText(state, { exact: true }).waitFor();
      expect(await row(i).getByText(shown(i), { exact: true }).count()).toBe(1);
      expect(await row(i).getByText(OWNER).count()).toBe(owner ? 1 : 0);
      expect(await row(i).getByRole('button').allTextContents()).toEqual(buttons);
    }
    await shot('01-all');

    await page.getByLabel('State').selectOption({ label: 'On security hold' });
    await expect.poll(() => page.locator('tr[data-device-id]').count()).toBe(2);
    await row(1).waitFor();
    await row(3).waitFor();
    await shot('02-on-hold');
  });

  it('gives a held dongle back to its owner after saying what happens; clears an unowned one', async () => {
    await row(3).getByRole('button', { name: 'Give back to owner' }).click();
    let dialog = page.getByRole('dialog', { name: 'Clear the security hold?' });
    await dialog.getByText(`(owner ${OWNER})`, { exact: false }).waitFor();
    await dialog
      .getByText(`The hold ends and ${OWNER} has the dongle back as before`, { exact: false })
      .waitFor();
    await shot('03-give-back-confirm');
    await dialog.getByRole('button', { name: 'Give back to owner' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row(3).getByText('Claimed', { exact: true }).waitFor();
    expect(await row(3).getByText(OWNER).count()).toBe(1);
    expect(await row(3).getByRole('button').allTextContents()).toEqual(['Force unpair']);
    await page
      .getByRole('status')
      .getByText(`The hold on ${shown(3)} is cleared; its owner has it back.`)
      .waitFor();
    expect(await ownership(3)).toBe('CLAIMED_ACTIVE');
    // The eleven starts that set off the hold were forgotten with it.
    expect((await startPairing(3)).status).toBe(200);
    await shot('04-given-back');

    // Nobody owns dongle 1: the dialog says only what happens to it.
    await row(1).getByRole('button', { name: 'Clear hold' }).click();
    dialog = page.getByRole('dialog', { name: 'Clear the security hold?' });
    await dialog.getByText('The hold ends. The dongle can be paired again.').waitFor();
    await shot('05-clear-unowned-hold-confirm');
    await dialog.getByRole('button', { name: 'Clear hold' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row(1).getByText('Unclaimed', { exact: true }).waitFor();
    expect(await ownership(1)).toBe('UNCLAIMED');

    // Asked again, the server has no dongle on hold any more.
    await page.getByLabel('State').selectOption({ label: 'All' });
    await page.getByLabel('State').selectOption({ label: 'On security hold' });
    await page.getByText('No dongle is on security hold.').waitFor();
    await shot('06-none-on-hold');
  });

  it('links a row to its audit log, which shows the hold cleared by the admin', async () => {
    await page.getByLabel('State').selectOption({ label: 'All' });
    await row(3)
      .getByRole('link', { name: `Audit log of ${shown(3)}` })
      .click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    expect(new URL(page.url()).searchParams.get('target')).toBe(dongleId(3));
    expect(await page.getByLabel('Target').inputValue()).toBe(dongleId(3));
    const cleared = page.getByRole('row').filter({ hasText: 'dongle.security_hold_cleared' });
    await cleared.waitFor();
    expect(await cleared.getByText(ADMIN).count()).toBe(1);
    await page.getByRole('row').filter({ hasText: 'dongle.security_hold_entered' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'dongle.paired' }).waitFor();
    // Only this dongle's entries: dongle 4's reset is not among them.
    expect(await page.getByRole('row').filter({ hasText: 'dongle.reset_detected' }).count()).toBe(0);
    await shot('07-audit-log');
  });

  it('finds a dongle by its state, its owner or its device id as shown, and force-unpairs an owned one', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'All dongles' }).click();
    await page.getByLabel('State').selectOption({ label: 'Reset detected' });
    await expect.poll(() => page.locator('tr[data-device-id]').count()).toBe(1);
    await row(4).getByRole('button', { name: 'Force unpair' }).click();
    const resetDialog = page.getByRole('dialog', { name: 'Force unpair this dongle?' });
    await resetDialog.getByRole('button', { name: 'Force unpair' }).click();
    await row(4).getByText('Unclaimed', { exact: true }).waitFor();
    expect(await ownership(4)).toBe('UNCLAIMED');

    await page.getByLabel('State').selectOption({ label: 'All' });
    const search = page.getByLabel('Search');
    await search.fill(shown(2));
    await expect.poll(() => page.locator('tr[data-device-id]').count()).toBe(1);
    await row(2).waitFor();

    await search.fill('alice@');
    await expect.poll(() => page.locator('tr[data-device-id]').count()).toBe(2); // dongles 0 and 3
    await row(0).getByRole('button', { name: 'Force unpair' }).click();
    const dialog = page.getByRole('dialog', { name: 'Force unpair this dongle?' });
    await dialog.getByText(`${shown(0)} is owned by ${OWNER}.`).waitFor();
    await dialog
      .getByText('The owner loses the dongle and Canopy forgets its token. The dongle can be paired again.')
      .waitFor();
    await shot('08-force-unpair-confirm');
    await dialog.getByRole('button', { name: 'Force unpair' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row(0).getByText('Unclaimed', { exact: true }).waitFor();
    expect(await row(0).getByText(OWNER).count()).toBe(0);
    await page.getByText(`${shown(0)} is unpaired.`, { exact: false }).waitFor();
    expect(await ownership(0)).toBe('UNCLAIMED');
    await shot('09-force-unpaired');

    await search.fill('nobody@example.com');
    await page.getByText('No dongle matches “nobody@example.com”.').waitFor();
    await page.getByLabel('State').selectOption({ label: 'Claimed' });
    await page.getByText('No dongle matching “nobody@example.com” is claimed.').waitFor();
  });

  it('shows the page to super admins only', async () => {
    const other = await (
      await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } })
    ).newPage();
    await logIn(other, OWNER);
    await other.goto('/admin/dongles');
    await other.getByRole('alert').getByText('Only administrators can see this page.').waitFor();
    expect(await other.locator('tr[data-device-id]').count()).toBe(0);
    await shot('10-not-admin', other);
  });
});
