// The inspector page in a real headless Chromium (Debian's `chromium`, driven by playwright-core;
// never a downloaded browser). The page is built from this checkout's sources into a temporary
// directory (as `npm run build` does into dist/page) and served by the inspector's node:http
// server. It runs the flaky-network story with the client in the page; in `agent-lifeline inspect`
// mode it rides out a gateway restart and a restart of its own local server without reloading,
// and given two nodes of a fleet it follows its client from a draining node to the other; and at
// three window sizes the current state stays in view with legible labels. Screenshots go
// to test-results/ for the CI artifacts.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { attachDemoAgent, createGateway, createMemoryLog, type Gateway } from '../../src/server/index.js';
import { startInspector, type Inspector } from '../../stories/support/inspector-server.js';
import { startFakePraisonAI } from '../conformance/praisonai-fake.js';
import { publishMany } from '../support/gateway-kit.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT_DIR = 'test-results';
const SCREENSHOT = `${SCREENSHOT_DIR}/inspector-flaky-network.png`;
const SIZES = [
  { width: 1024, height: 768 },
  { width: 1400, height: 900 },
  { width: 1920, height: 1080 },
] as const;

const pageDir = mkdtempSync(join(tmpdir(), 'lifeline-page-'));
let inspector: Inspector | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  // Fail loudly rather than skip: CI installs Chromium, so its absence is a broken setup.
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}. Install it (apt-get install chromium); the browser test never downloads one.`);
  await build({ configFile: 'vite.config.ts', logLevel: 'warn', build: { outDir: pageDir, emptyOutDir: true } });
  inspector = await startInspector({ port: 0, gatewayPort: 0, pageDir });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await inspector?.close();
  rmSync(pageDir, { recursive: true, force: true });
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
    await page.goto(`${inspector.url}&story=flaky-network&run=1&pace=150`);

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

  it('agent-lifeline inspect: rides out a gateway restart and a local server restart without reloading; the current state stays in view', async () => {
    if (!browser) throw new Error('setup failed');
    const log = createMemoryLog();
    const serve = async (port: number): Promise<Gateway> => {
      const gateway = await createGateway({ port, log, logger: false });
      attachDemoAgent(gateway, 'demo', { tokenDelayMs: 5 });
      return gateway;
    };
    let gateway = await serve(0);
    const target = { url: gateway.url, agentId: 'demo' };
    let local = await startInspector({ port: 0, pageDir, target });
    const page = await browser.newPage({ viewport: SIZES[0] });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await page.goto(local.url);
      // Anything set on window is gone if the page ever reloads.
      await page.evaluate(() => Object.assign(window, { keptAcrossRestarts: true }));
      await waitForStatus(page, 'live: joined');
      await page.fill('#message', 'hello');
      await page.click('#send button');
      await page.waitForSelector('.timeline li[data-kind="event"]:has-text("reply")', { timeout: 5000 });
      const rowsBefore = await page.locator('.timeline li').allTextContents();
      await checkSizes(page, 'joined');
      // Zooming out reaches the whole chart; fit returns to the legible scale checked above.
      for (let i = 0; i < 8; i++) await page.click('#zoom-out');
      const whole = await page.evaluate(() => {
        const chart = document.querySelector('svg.chart')?.getBoundingClientRect();
        const box = document.getElementById('chart');
        return chart && box ? chart.width <= box.clientWidth && chart.height <= box.clientHeight : false;
      });
      expect(whole, 'zoomed out, the whole chart fits').toBe(true);
      await page.click('#zoom-fit');

      // The gateway crashes and comes back on the same port with its log.
      await gateway.terminate();
      await waitForStatus(page, 'live: reconnecting');
      await checkSizes(page, 'reconnecting');
      gateway = await serve(gateway.port);
      await waitForStatus(page, 'live: joined', 15_000);
      const rowsAfter = await page.locator('.timeline li').allTextContents();
      expect(rowsAfter.slice(0, rowsBefore.length), 'the timeline kept its rows').toEqual(rowsBefore);
      const moves = rowsAfter.slice(rowsBefore.length).filter((row) => / -> /.test(row));
      const reconnecting = moves.findIndex((row) => row.includes('-> reconnecting'));
      expect(reconnecting, moves.join('\n')).toBeGreaterThanOrEqual(0);
      expect(moves.slice(reconnecting).some((row) => row.includes('-> joined')), moves.join('\n')).toBe(true);

      // Its own local server restarts too: the page's link reconnects, nothing reloads.
      const localPort = Number(new URL(local.url).port);
      await local.close();
      await page.waitForFunction(() => window.lifelineInspector?.localServer === 'reconnecting', null, { timeout: 5000 });
      // With the key of the run the page was opened with: a new key would be refused.
      local = await startInspector({ port: localPort, pageDir, target, controlKey: local.key });
      await page.waitForFunction(() => window.lifelineInspector?.localServer === 'connected', null, { timeout: 5000 });
      expect(await page.evaluate(() => 'keptAcrossRestarts' in window), 'the page reloaded').toBe(true);
      expect((await page.locator('.timeline li').allTextContents()).length).toBeGreaterThanOrEqual(rowsAfter.length);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
      await local.close();
      await gateway.terminate();
    }
  }, 45_000);

  it('agent-lifeline inspect with two nodes: node A drains, the page shows the client on node B, events go on with no gap', async () => {
    if (!browser) throw new Error('setup failed');
    // Two gateways on one log, as two nodes on one Redis are.
    const log = createMemoryLog({ replayWindow: 100 });
    const a = await createGateway({ port: 0, log, logger: false });
    const b = await createGateway({ port: 0, log, logger: false });
    const local = await startInspector({ port: 0, pageDir, target: { url: [a.url, b.url], agentId: 'demo' } });
    const page = await browser.newPage({ viewport: SIZES[0] });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const seqs = (): Promise<number[]> => page.locator('.timeline li[data-kind="event"]').evaluateAll((rows) => rows.map((row) => Number((row as HTMLElement).dataset['seq'])));
    try {
      await page.goto(local.url);
      await waitForStatus(page, 'live: joined');
      expect(await page.textContent('#node')).toBe(`on ${a.url}`);
      const before = await infoRows(page);
      const sessionId = before['session'] ?? '';
      await publishMany(a, sessionId, 3);
      await page.waitForFunction(() => document.querySelectorAll('.timeline li[data-kind="event"]').length === 3, null, { timeout: 5000 });

      await a.drain({ spreadMs: 0 });
      // Published while the client moves: replayed on B if it lands before the join, live after.
      await publishMany(b, sessionId, 2);
      await page.waitForFunction((url) => window.lifelineInspector?.node === url && document.getElementById('status')?.textContent === 'live: joined', b.url, { timeout: 5000 });
      expect(await page.textContent('#node')).toBe(`on ${b.url}`);
      await b.publish(sessionId, { type: 'tick', data: { live: true } });
      await page.waitForFunction(() => document.querySelectorAll('.timeline li[data-kind="event"]').length === 6, null, { timeout: 5000 });

      expect(await seqs()).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await page.locator('.timeline li[data-kind="gap"]').count()).toBe(0);
      expect(await page.locator('.timeline li[data-kind="node"]').allTextContents()).toEqual([expect.stringContaining(`now on ${b.url} (was ${a.url})`)]);
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: `${SCREENSHOT_DIR}/inspector-fleet-1024x768.png` });
      const after = await infoRows(page);
      expect(after).toMatchObject({ node: b.url, session: sessionId, epoch: before['epoch'], 'failed attempts': '0' });
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
      await local.close();
      await a.terminate();
      await b.terminate();
    }
  });

  it('agent-lifeline inspect --token: watches a PraisonAI gateway at /ws (the token reaches it as ?token=)', async () => {
    if (!browser) throw new Error('setup failed');
    const praison = await startFakePraisonAI({ token: 'secret', heartbeatMs: 30_000 });
    expect(praison.url).toMatch(/\/ws$/);
    // What `agent-lifeline inspect ws://…/ws --agent echo --token secret` starts.
    const local = await startInspector({ port: 0, pageDir, target: { url: praison.url, agentId: 'echo', token: 'secret' } });
    const page = await browser.newPage({ viewport: SIZES[0] });
    try {
      await page.goto(local.url);
      await waitForStatus(page, 'live: joined');
      await page.fill('#message', 'hello praison');
      await page.click('#send button');
      // The fake answers in PraisonAI's own dialect: the send is acknowledged and events arrive.
      await page.waitForSelector('.timeline li[data-kind="ack"]', { timeout: 5000 });
      await page.waitForSelector('.timeline li[data-kind="event"]', { timeout: 5000 });
    } finally {
      await page.close();
      await local.close();
      await praison.close();
    }
  });
});

/** The info panel as key -> value (`session`, `epoch`, `node`, ...). */
function infoRows(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const rows: Record<string, string> = {};
    for (const dt of document.querySelectorAll('#info dt')) rows[dt.textContent ?? ''] = dt.nextElementSibling?.textContent ?? '';
    return rows;
  });
}

function waitForStatus(page: Page, text: string, timeout = 5000): Promise<unknown> {
  return page.waitForFunction((expected) => document.getElementById('status')?.textContent === expected, text, { timeout });
}

/** Where the current (deepest active) state's box is, and the smallest state label's height. */
function measure(page: Page) {
  return page.evaluate(() => {
    const box = document.getElementById('chart');
    const active = [...document.querySelectorAll<SVGGElement>('svg.chart g.state.active')];
    const current = active.sort((a, b) => (b.dataset['state'] ?? '').split('.').length - (a.dataset['state'] ?? '').split('.').length)[0];
    const rect = current?.querySelector('rect')?.getBoundingClientRect();
    if (!box || !current || !rect) return null;
    const view = box.getBoundingClientRect();
    const visible = { left: view.left + box.clientLeft, top: view.top + box.clientTop, right: view.left + box.clientLeft + box.clientWidth, bottom: view.top + box.clientTop + box.clientHeight };
    const inside =
      rect.left >= Math.max(visible.left, 0) && rect.top >= Math.max(visible.top, 0) && rect.right <= Math.min(visible.right, innerWidth) && rect.bottom <= Math.min(visible.bottom, innerHeight);
    const labels = [...document.querySelectorAll<SVGTextElement>('svg.chart text.state-label')].map((t) => t.getBoundingClientRect().height);
    return { id: current.dataset['state'] ?? '', inside, smallestLabel: Math.min(...labels), rect: [rect.left, rect.top, rect.right, rect.bottom], visible };
  });
}

/**
 * At each window size, while the client is in top-level `state`: the current state's box lies
 * inside the chart's visible area and the window, and every state label is at least 11 px high.
 * A client that is retrying flips between reconnecting and connecting, so a measurement taken in
 * the other state is taken again (bounded). A screenshot of each goes to test-results/.
 */
async function checkSizes(page: Page, state: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  for (const size of SIZES) {
    const where = `${size.width}x${size.height}`;
    await page.setViewportSize(size);
    let seen: Awaited<ReturnType<typeof measure>> = null;
    for (let attempt = 0; attempt < 20 && seen?.id.split('.')[1] !== state; attempt++) {
      await page.waitForSelector(`svg.chart g.state.active[data-state="gateway.${state}"]`, { timeout: 10_000 });
      // Resize observers run before the next frame is painted; two frames later the pan is done.
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      seen = await measure(page);
    }
    expect(seen, where).not.toBeNull();
    expect(seen?.id.split('.')[1], where).toBe(state);
    expect(seen?.inside, `${where}: ${JSON.stringify(seen)}`).toBe(true);
    expect(seen?.smallestLabel, where).toBeGreaterThanOrEqual(11);
    await page.screenshot({ path: `${SCREENSHOT_DIR}/inspector-${state}-${where}.png` });
  }
}
