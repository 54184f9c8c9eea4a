import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from '../../cloud/test/chromium';
import { serve } from '../../cloud/test/process';
import { freePort, tempDirs, waitFor } from './cli-process';
import { type RelayRig, startRelayRig } from './relay-rig';

// The live console of a group in Chromium, fed by the real chain: two canopy-dongle-sims (each with its OBD-II
// ECU) → two canopy-nodes on `lo` → canopy-cloud (relay, SSE console) → the dashboard. A mechanic's tool on
// side B asks the car on side A for its engine speed; the console shows the request and the answer.
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/group-console/', import.meta.url));
const chromiumHere = haveChromium('the group console browser test');
const USER = 'workshop@example.com';
const PASSWORD = 'correct horse battery'; // the harness Client's default, which the rig signs up with

/** In the page, for 3 s: animation frames a second, and tasks over 50 ms (the page stalling). */
const SMOOTHNESS_PROBE = `new Promise((resolve) => {
  const tasks = [];
  const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) tasks.push(e.duration); });
  observer.observe({ type: 'longtask', buffered: false });
  let frames = 0;
  const t0 = performance.now();
  const tick = () => {
    frames += 1;
    if (performance.now() - t0 < 3000) requestAnimationFrame(tick);
    else {
      observer.disconnect();
      resolve({ fps: frames / 3, longTasks: tasks.length, longest: Math.max(0, ...tasks) });
    }
  };
  requestAnimationFrame(tick);
})`;

describe.runIf(chromiumHere)('the live console of a group', () => {
  const dirs = tempDirs();
  let server: Awaited<ReturnType<typeof serve>>;
  let cloudEnv: Record<string, string>;
  let rig: RelayRig;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  const rows = () => page.locator('.console-table tbody tr[data-way]');
  const row = (way: string, text: string) =>
    page.locator(`.console-table tbody tr[data-way="${way}"]`, { hasText: text });
  const count = () => page.getByTestId('console-count');
  const framesShown = async () => Number(await count().getAttribute('data-frames'));
  const putOnBus = (sim: RelayRig['simA'], frames: { id: string; data: string }[]) =>
    sim.api('POST', `/dongles/${rig.device(sim)}/frames`, { frames });

  async function shot(name: string, target?: Locator) {
    const file = path.join(ARTIFACTS, `${name}.png`);
    if (target) await target.screenshot({ path: file });
    else {
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: file, fullPage: true });
    }
  }

  async function visibleRowTexts(): Promise<string[]> {
    return rows().evaluateAll((trs) =>
      trs
        .slice(0, 12)
        .map((tr) =>
          [...Array(tr.children.length).keys()].map((i) => tr.children[i]?.textContent ?? '').join('\t'),
        ),
    );
  }

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const port = await freePort();
    cloudEnv = {
      CANOPY_DATA_DIR: path.join(dirs.root, 'cloud'),
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      // A backlog replayed at 2,000 frames/s drains over several seconds: long enough to watch the catch-up.
      RELAY_REPLAY_RATE: '2000',
    };
    server = await serve(cloudEnv);
    rig = await startRelayRig({ cloudA: server.url, email: USER });
    browser = await launchChromium();
    context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await page.goto('/login');
    await page.getByLabel('Email').fill(USER);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.goto(`/groups/${rig.groupId}`);
    await page.getByRole('heading', { name: 'Live console' }).waitFor();
    await page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await rig?.stop();
    await server?.stop();
    dirs.cleanup();
  });

  it('shows an OBD-II request crossing B → A and the ECU’s answer A → B, decoded', async () => {
    const panel = page.locator('[data-slot="group-console"]');
    await panel.getByText('Waiting for frames…').waitFor();
    await panel.locator('[data-side="a"]').getByText('Online').waitFor();
    await panel.locator('[data-side="b"]').getByText('Online').waitFor();
    await shot('01-waiting');

    // The mechanic's tool on side B's bus asks every ECU (0x7DF) for the engine speed (service 01, PID 0C).
    const put = await putOnBus(rig.simB, [{ id: '0x7DF', data: '02010C0000000000' }]);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const request = row('b_to_a', '0x7DF');
    await request.waitFor({ timeout: 10_000 });
    await request.getByText('02 01 0C 00 00 00 00 00').waitFor();
    await request.getByText('Asks for engine speed').waitFor();
    const answer = row('a_to_b', '0x7E8');
    await answer.waitFor({ timeout: 10_000 });
    await answer.getByText(/Engine speed [\d,.]+ rpm/).waitFor();
    expect(await answer.locator('td').nth(4).textContent()).toMatch(
      /^04 41 0C [0-9A-F]{2} [0-9A-F]{2} AA AA AA$/,
    );
    // Newest first: the answer above the request.
    expect((await visibleRowTexts()).map((t) => t.split('\t')[2])).toEqual(['0x7E8', '0x7DF']);
    await shot('02-obd-request-and-answer');
  });

  it('sends a frame from the form: the speed request goes onto A’s bus and the answer shows', async () => {
    const form = page.getByRole('form', { name: 'Send a frame' });
    await form.getByLabel('Send to').selectOption('a');
    await form.getByLabel('CAN id (hex)').fill('7G8');
    await form.getByRole('button', { name: 'Send' }).click();
    await form
      .getByText('The CAN id is hexadecimal: digits 0–9 and letters A–F, e.g. 7DF or 0x7DF.')
      .waitFor();
    await form.getByLabel('CAN id (hex)').fill('0x7DF');
    await form.getByLabel('Data (hex bytes)').fill('02 01 0');
    await form.getByRole('button', { name: 'Send' }).click();
    await form.getByText('The data needs two hex digits for each byte, e.g. 02 01 0D.').waitFor();
    await shot('03-send-form-problems', form);

    await form.getByLabel('Data (hex bytes)').fill('02010D');
    await form.getByRole('button', { name: 'Send' }).click();
    await form.getByText('Sent 0x7DF 02 01 0D onto side A’s bus.').waitFor();
    // The typed frame crosses the group as if side B's dongle had read it.
    const typed = row('b_to_a', '02 01 0D');
    await typed.waitFor({ timeout: 10_000 });
    await typed.getByText('Asks for vehicle speed').waitFor();
    const answer = row('a_to_b', 'Vehicle speed');
    await answer.waitFor({ timeout: 10_000 });
    await answer.getByText(/Vehicle speed \d+ km\/h/).waitFor();
    expect(await answer.locator('td').nth(2).textContent()).toBe('0x7E8');
    await shot('04-speed-answer');
  });

  it('filters by CAN id: 7E8 shows only the answers', async () => {
    const total = await framesShown();
    await page.getByLabel('CAN ids').fill('7E8');
    await waitFor('the filter', async () => ((await framesShown()) < total ? true : undefined), 5_000);
    const ids = await rows().evaluateAll((trs) => trs.map((tr) => tr.children[2]?.textContent));
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ids)).toEqual(new Set(['0x7E8']));
    await expect(count().textContent()).resolves.toMatch(/^\d+ of \d+ frames$/);
    await shot('05-filter-7E8');

    await page.getByLabel('CAN ids').fill('7E8, 7Q');
    await page.getByText('"7Q" is not a CAN id in hex.', { exact: false }).waitFor();
    await page.getByLabel('Direction').selectOption('b_to_a');
    await page.getByLabel('CAN ids').fill('');
    await waitFor('the direction filter', async () => {
      const ways = await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-way')));
      return ways.length > 0 && ways.every((w) => w === 'b_to_a') ? true : undefined;
    });
    await page.getByLabel('Direction').selectOption('all');
    await waitFor('no filter', async () => ((await framesShown()) === total ? true : undefined), 5_000);
  });

  it('holds the table still while paused, counting the new frames, and catches up on resume', async () => {
    await page.getByRole('button', { name: 'Pause' }).click();
    const before = await visibleRowTexts();
    const shownBefore = await framesShown();
    const started = await rig.traffic(rig.simA, {
      rate: 300,
      ids: ['0x100', '0x101', '0x102'],
      duration_ms: 3_000,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const fresh = page.getByTestId('console-new');
    let seen = 0;
    await waitFor(
      'the new frames to be counted',
      async () => {
        const n = Number(await fresh.getAttribute('data-new'));
        expect(n).toBeGreaterThanOrEqual(seen); // only grows
        seen = n;
        return n >= 800 ? n : undefined;
      },
      15_000,
    );
    await shot('06-paused');
    expect(await visibleRowTexts()).toEqual(before);
    expect(await framesShown()).toBe(shownBefore);
    await rig.trafficDone(rig.simA, 10_000);

    await page.getByRole('button', { name: 'Resume' }).click();
    await waitFor('the table to catch up', async () =>
      (await framesShown()) >= shownBefore + 800 ? true : undefined,
    );
    expect((await visibleRowTexts())[0]).toMatch(/0x10[012]/);
    expect(await fresh.count()).toBe(0);
    console.log(`paused: ${seen} new frames counted while the table stood still`);
  });

  it('keeps the newest 10,000 frames with only a window of rows in the DOM, and scrolls through them', async () => {
    // Above 500 frames/s the console shows 1 in N (N a power of two that keeps it under 500/s): 1,800 frames/s
    // is shown as 1 in 4, about 450/s, so 10,000 rows take some 22 s.
    const started = await rig.traffic(rig.simA, {
      rate: 1_800,
      ids: ['0x200', '0x201', '0x202', '0x203'],
      duration_ms: 40_000,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    await page.getByTestId('console-sampling').waitFor({ timeout: 10_000 });

    // While frames pour in: how smoothly the page draws (animation frames a second, tasks over 50 ms).
    const smooth = (await page.evaluate(SMOOTHNESS_PROBE)) as {
      fps: number;
      longTasks: number;
      longest: number;
    };

    const rate = Number(((await page.getByTestId('console-rate').textContent()) ?? '').replace(/,/g, ''));
    const sampling = await page.getByTestId('console-sampling').textContent();
    let shown = 0;
    await waitFor(
      '10,000 frames in the console',
      async () => {
        shown = await framesShown();
        return shown >= 10_000 ? true : undefined;
      },
      60_000,
    ).catch((err) => {
      throw new Error(`${err.message}: ${shown} frames shown, ${sampling}, ${rate} frames/s`);
    });
    await page.getByText('(the newest 10,000 are kept)').waitFor();
    const inDom = await page.locator('.console-table tr').count();
    expect(inDom).toBeLessThan(200);
    await shot('07-ten-thousand');

    // Scroll halfway down (by the wheel, as a person would), then to the end.
    const scroller = page.locator('.console-scroll');
    await scroller.hover();
    await page.mouse.wheel(0, 150_000);
    await waitFor('rows from the middle', async () => {
      const first = await rows().first().getAttribute('aria-rowindex');
      return Number(first) > 3_000 ? Number(first) : undefined;
    });
    const middleRows = await page.locator('.console-table tr').count();
    expect(middleRows).toBeLessThan(200);
    await shot('08-scrolled-middle');
    await scroller.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await waitFor('the oldest rows', async () => {
      const last = await rows().last().getAttribute('aria-rowindex');
      return Number(last) >= 10_000 ? true : undefined;
    });
    await page.getByRole('button', { name: 'Pause' }).click();
    await shot('09-scrolled-end', page.locator('[data-slot="group-console"]'));
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('button', { name: '↑ Back to the newest' }).click();
    await waitFor('the newest rows', async () =>
      (await rows().first().getAttribute('aria-rowindex')) === '2' ? true : undefined,
    );
    await rig.simA.api('DELETE', `/dongles/${rig.device(rig.simA)}/traffic`);
    console.log(
      `10,000+ frames: ${inDom} <tr> in the DOM at the top, ${middleRows} in the middle; ` +
        `${rate} frames/s shown (${sampling}); ${smooth.fps.toFixed(0)} animation frames/s, ` +
        `${smooth.longTasks} tasks over 50 ms in 3 s (longest ${smooth.longest.toFixed(0)} ms)`,
    );
  });

  it('shows a side going offline, the backlog growing, and its catch-up once the side is back', async () => {
    const panel = page.locator('[data-slot="group-console"]');
    const sideB = panel.locator('[data-side="b"]');
    await rig.stopB();
    await panel.locator('.console-status').getByText('Degraded').waitFor({ timeout: 20_000 });
    await sideB.getByText('Offline').waitFor({ timeout: 10_000 });
    const sent = await rig.traffic(rig.simA, { rate: 2_000, ids: ['0x300', '0x301'], count: 24_000 });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    await rig.trafficDone(rig.simA, 30_000);
    const backlogAtoB = panel.locator('.console-backlog-line').first();
    let said: string | null = null;
    await waitFor(
      'the backlog on the console',
      async () => {
        // Everything the traffic sent, and whatever was still in flight to B when its node stopped.
        said = await backlogAtoB.textContent();
        const waiting = /^Waiting A → B([\d,]+) frames?$/.exec(said ?? '')?.[1];
        return Number(waiting?.replace(/,/g, '')) >= 24_000 ? true : undefined;
      },
      10_000,
    ).catch((err) => {
      throw new Error(`${err.message}: it says "${said}"`);
    });
    await shot('10-degraded-backlog');

    await rig.restartB();
    const progress = panel.locator('progress.catch-up');
    await progress.waitFor({ timeout: 20_000 });
    const catchingUp = await backlogAtoB.textContent();
    await shot('11-catching-up');
    await sideB.getByText('Online').waitFor({ timeout: 20_000 });
    await panel.locator('.console-status').getByText('Active').waitFor({ timeout: 20_000 });
    await waitFor(
      'the backlog to drain',
      async () =>
        (await panel.locator('.console-backlog-line').first().textContent())?.endsWith('none')
          ? true
          : undefined,
      30_000,
    );
    await expect(progress.count()).resolves.toBe(0);
    // The console's own notices: sampling on and off during the busy stretches.
    await panel.getByText(/^Events and errors/).click();
    await panel.getByText('The console shows every frame again.').first().waitFor();
    await shot('12-notices', panel.locator('.console-notices'));
    console.log(`catch-up seen on the console: "${catchingUp}"`);
  });

  it('shows RX and TX on a dongle’s own console', async () => {
    await page.goto(`/dongles/${rig.dongleA}`);
    const panel = page.locator('[data-slot="dongle-console"]');
    await panel.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });
    // Written to A's bus (TX) from side B, and the ECU's answer read off it (RX). The console may still be
    // sampling for a moment after the busy bus of the test before, so the tool asks again, as a real one would.
    const request = panel.locator('tr[data-way="tx"]', { hasText: '0x7DF' });
    await waitFor('the request on dongle A’s console', async () => {
      if ((await request.count()) > 0) return true;
      await putOnBus(rig.simB, [{ id: '0x7DF', data: '0201050000000000' }]);
      await new Promise((r) => setTimeout(r, 900));
      return undefined;
    });
    await panel.locator('tr[data-way="rx"]', { hasText: /Coolant -?\d+ °C/ }).waitFor({ timeout: 10_000 });
    await shot('13-dongle-console', panel);
  });

  it('says Reconnecting… while the cloud is away, then carries on, noting the events it missed', async () => {
    const panel = page.locator('[data-slot="dongle-console"]');
    await server.stop();
    await panel.locator('[data-connection="reconnecting"]').waitFor({ timeout: 10_000 });
    await shot('14-reconnecting', panel.locator('.console-title'));
    // The same cloud again (same database, so the session holds); without Redis its console streams started
    // over, so the id the browser resumes from is unknown to it: stream_reset, then live events.
    server = await serve(cloudEnv);
    await panel.locator('[data-connection="live"]').waitFor({ timeout: 20_000 });
    await panel.getByText('Some events were missed while the connection was down', { exact: false }).waitFor({
      timeout: 10_000,
    });
    await shot('15-reconnected', panel);
  });
});
