// The inspector page in a real headless Chromium (Debian's `chromium`, driven by playwright-core;
// never a downloaded browser): it loads the page `npm start` serves, runs the flaky-network story
// with the client in the page, and checks what the page drew. A screenshot taken mid-story goes
// to test-results/ for the CI artifacts.
import { existsSync, mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { startInspector, type Inspector } from '../../stories/support/inspector-server.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT_DIR = 'test-results';
const SCREENSHOT = `${SCREENSHOT_DIR}/inspector-flaky-network.png`;

let inspector: Inspector | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  // Fail loudly rather than skip: CI installs Chromium, so its absence is a broken setup.
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}. Install it (apt-get install chromium); the browser test never downloads one.`);
  inspector = await startInspector({ port: 0, gatewayPort: 0 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 20_000);

afterAll(async () => {
  await browser?.close();
  await inspector?.close();
});

/** Top-level state of a highlight: `gateway.joined.live` -> `joined`. */
function topLevel(ids: readonly string[]): string {
  return ids[0]?.split('.')[1] ?? '';
}

describe('inspector page', () => {
  it('runs flaky-network in the browser: the chart goes through reconnecting back to joined, events in order', async () => {
    if (!browser || !inspector) throw new Error('setup failed');
    const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${inspector.url}?story=flaky-network&run=1&pace=150`);

    // The chart is drawn from the machine: every top-level state of the client is there.
    await page.waitForSelector('svg.chart g.state[data-state="gateway.reconnecting"]', { timeout: 15_000 });
    for (const state of ['disconnected', 'connecting', 'negotiating', 'joined', 'reconnecting']) {
      expect(await page.locator(`svg.chart g.state[data-state="gateway.${state}"]`).count(), state).toBe(1);
    }

    // Mid-story: the chart highlights reconnecting; keep that moment as the artifact.
    await page.waitForFunction(() => window.lifelineInspector?.highlights.some((ids) => ids.includes('gateway.reconnecting')), null, { timeout: 10_000 });
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: SCREENSHOT });

    await page.waitForFunction(() => ['passed', 'failed'].includes(window.lifelineInspector?.status ?? ''), null, { timeout: 15_000 });
    const handle = await page.evaluate(() => ({ status: window.lifelineInspector?.status, error: window.lifelineInspector?.error, highlights: window.lifelineInspector?.highlights ?? [] }));
    expect(handle.error ?? null, 'the story failed in the page').toBeNull();
    expect(handle.status).toBe('passed');

    // The highlighted states, as the SVG showed them: a first join, then three drops, each
    // reconnecting and back to joined.
    const tops = handle.highlights.map(topLevel).filter((s, i, all) => i === 0 || all[i - 1] !== s);
    expect(tops.slice(0, 4)).toEqual(['disconnected', 'connecting', 'negotiating', 'joined']);
    let recoveries = 0;
    for (let i = 0; i < tops.length; i++) {
      if (tops[i] !== 'reconnecting') continue;
      const back = tops.indexOf('joined', i);
      if (back > i && !tops.slice(i, back).includes('disconnected')) recoveries++;
      i = back > i ? back : i;
    }
    expect(recoveries, `highlight sequence: ${tops.join(' > ')}`).toBe(3);
    // Every highlight marked exactly one leaf, with its parents.
    for (const ids of handle.highlights) expect(ids.length === 1 || ids.length === 2, ids.join(',')).toBe(true);

    // Events as the timeline lists them: #1..#9, in order, none twice, six of them replayed.
    const seqs = await page.locator('.timeline li[data-kind="event"]').evaluateAll((rows) => rows.map((row) => Number((row as HTMLElement).dataset['seq'])));
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await page.locator('.timeline li[data-kind="event"].replayed').count()).toBe(6);
    expect(await page.locator('.timeline li[data-kind="gap"]').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 30_000);
});
