import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from './chromium';
import { run, serve } from './process';

// The built server (npm run build) as a real process on the embedded defaults, driven by Debian's Chromium.
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/dashboard/', import.meta.url));
const PASSWORD = 'correct horse battery';
const ADMIN = 'admin@example.com';
const USER = 'mechanic@example.com';

const chromiumHere = haveChromium('the browser test');

describe.runIf(chromiumHere)('dashboard in Chromium', () => {
  let dataDir: string;
  let server: Awaited<ReturnType<typeof serve>>;
  let browser: Browser;

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-browser-'));
    server = await serve({ CANOPY_DATA_DIR: dataDir, PUBLIC_URL: 'http://localhost' });
    const made = await run(['create-admin', '--email', ADMIN], { CANOPY_DATA_DIR: dataDir }, `${PASSWORD}\n`);
    expect(made.code, made.stderr).toBe(0);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
    return context.newPage();
  }
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  async function logIn(page: Page, email: string) {
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  it('signs up, sees the shell, logs out and logs back in', async () => {
    const page = await newPage();
    await page.goto('/');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/login');
    await shot(page, '01-login');

    await page.getByRole('link', { name: /sign up/i }).click();
    await page.getByLabel('Email').fill(USER);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password').fill(PASSWORD);
    await shot(page, '02-signup');
    await page.getByRole('button', { name: 'Sign up' }).click();

    await page.getByRole('button', { name: 'Log out' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/nodes');
    const nav = page.getByRole('navigation');
    for (const item of ['Nodes', 'Dongles', 'Groups', 'My Devices']) {
      await expect.poll(() => nav.getByRole('link', { name: item }).count()).toBe(1);
    }
    expect(await nav.getByRole('link', { name: 'Admin' }).count()).toBe(0);
    expect(await page.getByText(USER).count()).toBeGreaterThan(0);
    expect(await page.getByText(/verify your email/i).count()).toBeGreaterThan(0);
    await shot(page, '03-shell');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');

    await logIn(page, USER);
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Dongles' }).click();
    await page.getByText('None of your nodes is online').waitFor();
    await shot(page, '04-dongles-no-node');
    await page.getByRole('navigation').getByRole('link', { name: 'Groups' }).click();
    await page.getByRole('heading', { name: 'Groups', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
  });

  it('shows a wrong password as a sentence', async () => {
    const page = await newPage();
    await page.goto('/login');
    await page.getByLabel('Email').fill(USER);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /wrong email or password/i })
      .waitFor();
  });

  it('runs every page under its strict Content-Security-Policy without a violation or a script error', async () => {
    const page = await newPage();
    const problems: string[] = [];
    await page.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (e) =>
        console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`,
    });
    page.on('console', (m) => {
      if (m.type() === 'error' && /CSP|Content Security Policy|script-src/i.test(m.text()))
        problems.push(`${new URL(page.url()).pathname}: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`${new URL(page.url()).pathname}: ${err.message}`));
    const csp = (await page.goto('/login'))?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    await logIn(page, ADMIN);
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    for (const [where, heading] of [
      ['/nodes', 'Nodes'],
      ['/dongles', 'Dongles'],
      ['/groups', 'Groups'],
      ['/my-devices', 'My Devices'],
      ['/admin/users', 'Users'],
    ]) {
      await page.goto(where as string);
      await page.getByRole('heading', { name: heading, exact: true }).first().waitFor();
    }
    expect(problems).toEqual([]);
  });

  it('lets an admin disable a user, who then cannot log in', async () => {
    const admin = await newPage();
    await logIn(admin, ADMIN);
    await admin.getByRole('navigation').getByRole('link', { name: 'Admin' }).click();
    await admin.getByRole('link', { name: 'Users' }).first().click();
    const row = admin.getByRole('row', { name: new RegExp(USER) });
    await row.getByRole('button', { name: 'Disable' }).click();
    await admin.getByRole('button', { name: 'Disable user' }).click();
    await row.getByText('Disabled').waitFor();
    await shot(admin, '05-admin-users');

    await admin.getByRole('link', { name: 'Audit log' }).click();
    await admin.getByText('admin.user_disabled').first().waitFor();
    await shot(admin, '06-audit-log');

    const user = await newPage();
    await logIn(user, USER);
    await user
      .getByRole('alert')
      .filter({ hasText: /disabled/i })
      .waitFor();
    expect(new URL(user.url()).pathname).toBe('/login');
    await shot(user, '07-disabled-login');
  });
});
