import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from '../../cloud/test/chromium';
import { tempDirs } from './cli-process';
import { type MeshNode, startMeshNode } from './mesh-rig';

// The owner's My Devices page (http://127.0.0.1:<uiPort>) and a phone (a second browser profile) that pairs
// through the QR link + PIN over the node's HTTPS port, keeps its token in IndexedDB and sends a file.
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/mesh/', import.meta.url));
const chromiumHere = haveChromium('the mesh browser test');

describe.runIf(chromiumHere)('pairing a phone with My Devices in Chromium', () => {
  const dirs = tempDirs();
  let node: MeshNode;
  let browser: Browser;
  let owner: Page;
  let phone: Page;
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  const photo = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    node = await startMeshNode(dirs.root, 'Studio PC');
    browser = await launchChromium();
    owner = await (await browser.newContext({ viewport: { width: 1100, height: 760 } })).newPage();
    // The node's certificate is self-signed: a phone accepts it once (its fingerprint is in the QR code).
    phone = await (
      await browser.newContext({
        ignoreHTTPSErrors: true,
        viewport: { width: 390, height: 760 },
        isMobile: true,
      })
    ).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await node?.stop();
    dirs.cleanup();
  });

  it('pairs through the QR link and PIN, and both sides show each other as Available', async () => {
    await owner.goto(node.ui);
    await owner.getByText('Pair your first device to get started').waitFor();
    await shot(owner, '01-owner-empty');

    await owner.getByRole('button', { name: 'Add a device' }).click();
    const dialog = owner.getByRole('dialog', { name: 'Add a device' });
    await dialog.getByText(/This code works for [12]:\d\d more/).waitFor();
    expect(await dialog.getByRole('img', { name: 'Pairing QR code' }).getAttribute('src')).toMatch(
      /^data:image\/svg\+xml;base64,/,
    );
    const link = (await owner.locator('#link').textContent()) ?? '';
    const pin = (await owner.locator('#pin').textContent()) ?? '';
    expect(link).toMatch(
      new RegExp(`^https://127\\.0\\.0\\.1:${node.port}/pair#c=[0-9A-Z]{8}&f=[0-9a-f]{64}$`),
    );
    expect(pin).toMatch(/^\d{6}$/);
    await shot(owner, '02-add-a-device');

    await phone.goto(link);
    await phone.getByRole('heading', { name: 'Pair with Studio PC' }).waitFor();
    expect(await phone.getByLabel('Pairing code').inputValue()).toMatch(/^[0-9A-Z]{8}$/);
    // The code does not stay in the address bar.
    expect(phone.url()).not.toContain('#');
    await phone.getByLabel('Name this device').fill('Pixel');
    await phone.getByLabel('PIN').fill(pin);
    await shot(phone, '03-phone-pair');
    const started = Date.now();
    await phone.getByRole('button', { name: 'Pair' }).click();
    await phone.getByRole('heading', { name: 'My Devices' }).waitFor();
    const card = phone.getByRole('article', { name: 'Studio PC' });
    await card.getByText('● Available').waitFor();
    const pairedMs = Date.now() - started;
    expect(pairedMs).toBeLessThan(5000);
    await shot(phone, '04-phone-paired');

    // The token lives in IndexedDB, nowhere else on the page.
    const stored = (await phone.evaluate(`new Promise((resolve, reject) => {
      const open = indexedDB.open('canopy-mesh', 1);
      open.onsuccess = () => {
        const req = open.result.transaction('peers').objectStore('peers').getAll();
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      };
    })`)) as { name: string; token: string }[];
    expect(stored).toEqual([
      expect.objectContaining({ name: 'Studio PC', token: expect.stringMatching(/^cmt_/) }),
    ]);
    expect(await phone.evaluate('localStorage.length')).toBe(0);
    expect(await phone.content()).not.toContain(stored[0]?.token ?? 'none');

    await dialog.getByRole('button', { name: 'Close' }).click();
    const phoneCard = owner.getByRole('article', { name: 'Pixel' });
    await phoneCard.getByText('● Available').waitFor();
    await phoneCard.getByText('Phone or browser').waitFor();
    expect(await owner.getByText('Pair your first device to get started').count()).toBe(0);
    await shot(owner, '05-owner-sees-phone');
  });

  it('sends a file from the phone into the node’s inbox with a progress bar', async () => {
    await phone
      .getByLabel('Send to Studio PC')
      .setInputFiles({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: photo });
    await phone.getByText('Sent photo.jpg to Studio PC.').waitFor();
    expect(await phone.getByRole('progressbar', { name: 'Sending to Studio PC' }).getAttribute('value')).toBe(
      '100',
    );
    expect(fs.readFileSync(path.join(node.home, 'inbox', 'photo.jpg')).equals(photo)).toBe(true);
    await shot(phone, '06-phone-sent');
  });

  it('refuses the next send once the owner removed the phone: "Device access removed"', async () => {
    owner.once('dialog', (d) => void d.accept());
    await owner
      .getByRole('article', { name: 'Pixel' })
      .getByRole('button', { name: 'Remove device' })
      .click();
    await owner.getByText('Pixel was removed.').waitFor();
    await owner.getByText('Pair your first device to get started').waitFor();
    await shot(owner, '07-owner-removed');

    await phone
      .getByLabel('Send to Studio PC')
      .setInputFiles({ name: 'again.jpg', mimeType: 'image/jpeg', buffer: photo });
    await phone.getByRole('alert').getByText('Device access removed').waitFor();
    await phone.getByRole('article', { name: 'Studio PC' }).getByText('⚠ Needs re-pairing').waitFor();
    expect(fs.existsSync(path.join(node.home, 'inbox', 'again.jpg'))).toBe(false);
    // What the person reads never names a token, an address or a permission.
    // biome-ignore lint/performance/useDomNodeTextContent: what is rendered, not the page's script source
    const text = await phone.locator('body').innerText();
    expect(text).not.toMatch(/token|bearer|permission|127\.0\.0\.1|401/i);
    await shot(phone, '08-phone-access-removed');
  });

  it('re-pairs the phone by scanning a new code, and sending works again', async () => {
    await owner.getByRole('button', { name: 'Add a device' }).click();
    await owner.getByText(/This code works for [12]:\d\d more/).waitFor();
    const link = (await owner.locator('#link').textContent()) ?? '';
    const pin = (await owner.locator('#pin').textContent()) ?? '';
    await phone.getByRole('button', { name: 'Re-pair' }).click();
    await phone.goto(link);
    await phone.getByLabel('PIN').fill(pin);
    await phone.getByRole('button', { name: 'Pair', exact: true }).click();
    await phone.getByText('Paired with Studio PC.').waitFor();
    await phone.getByRole('article', { name: 'Studio PC' }).getByText('● Available').waitFor();
    await phone
      .getByLabel('Send to Studio PC')
      .setInputFiles({ name: 'again.jpg', mimeType: 'image/jpeg', buffer: photo });
    await phone.getByText('Sent again.jpg to Studio PC.').waitFor();
    expect(fs.readFileSync(path.join(node.home, 'inbox', 'again.jpg')).equals(photo)).toBe(true);
    await owner.getByRole('dialog', { name: 'Add a device' }).getByRole('button', { name: 'Close' }).click();
    await owner.getByRole('article', { name: 'Pixel' }).getByText('● Available').waitFor();
    // The same phone, paired again: one card, one live token.
    expect(await owner.getByRole('article', { name: 'Pixel' }).count()).toBe(1);
    await shot(phone, '09-phone-repaired');
  });
});

describe.runIf(chromiumHere)('pairing two canopy-nodes from their My Devices pages', () => {
  const dirs = tempDirs();
  let studio: MeshNode;
  let laptop: MeshNode;
  let browser: Browser;
  let a: Page;
  let b: Page;
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    [studio, laptop] = await Promise.all([
      startMeshNode(dirs.root, 'Studio PC'),
      startMeshNode(dirs.root, 'Laptop'),
    ]);
    browser = await launchChromium();
    a = await (await browser.newContext({ viewport: { width: 1000, height: 700 } })).newPage();
    b = await (await browser.newContext({ viewport: { width: 1000, height: 700 } })).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([studio?.stop(), laptop?.stop()]);
    dirs.cleanup();
  });

  it('joins with the link and PIN, shows both Available, sends a file with progress, and removes both ways', async () => {
    await a.goto(studio.ui);
    await a.getByRole('button', { name: 'Add a device' }).click();
    await a.getByText(/This code works for [12]:\d\d more/).waitFor();
    const link = (await a.locator('#link').textContent()) ?? '';
    const pin = (await a.locator('#pin').textContent()) ?? '';

    await b.goto(laptop.ui);
    await b.getByRole('button', { name: 'Join another device' }).click();
    const join = b.getByRole('dialog', { name: 'Join another device' });
    await join.getByLabel('Link').fill(link);
    await join.getByLabel('PIN').fill(pin === '000000' ? '111111' : '000000');
    await join.getByRole('button', { name: 'Pair' }).click();
    await join.getByText("That PIN doesn't match. 4 tries left.").waitFor();
    await shot(b, '11-join-wrong-pin');
    await join.getByLabel('PIN').fill(pin);
    await join.getByRole('button', { name: 'Pair' }).click();
    await b.getByText('Paired with Studio PC.').waitFor();

    const studioCard = b.getByRole('article', { name: 'Studio PC' });
    await studioCard.getByText('● Available').waitFor();
    await studioCard.getByText('Can receive files').waitFor();
    await studioCard.getByText('Always on').waitFor();
    await a.getByRole('button', { name: 'Close' }).click();
    await a.getByRole('article', { name: 'Laptop' }).getByText('● Available').waitFor({ timeout: 10_000 });
    await shot(a, '12-studio-sees-laptop');

    const chooser = b.waitForEvent('filechooser');
    await studioCard.getByRole('button', { name: 'Send to Studio PC' }).click();
    const file = Buffer.alloc(2 * 1024 * 1024, 7);
    await (await chooser).setFiles({ name: 'scan.pdf', mimeType: 'application/pdf', buffer: file });
    await b.getByText('Sent scan.pdf to Studio PC.').waitFor({ timeout: 15_000 });
    expect(fs.readFileSync(path.join(studio.home, 'inbox', 'scan.pdf')).equals(file)).toBe(true);
    await shot(b, '13-laptop-sent');

    a.once('dialog', (d) => void d.accept());
    await a.getByRole('article', { name: 'Laptop' }).getByRole('button', { name: 'Remove device' }).click();
    await a.getByText('Laptop was removed.').waitFor();
    // The laptop was told: Studio PC disappears there too.
    await b.getByText('Pair your first device to get started').waitFor({ timeout: 10_000 });
    await shot(b, '14-laptop-after-removal');
  });
});
