// The inspector page in a real headless Chromium (Debian's `chromium`, driven by playwright-core;
// never a downloaded browser). The page is built from this checkout's sources into a temporary
// directory (as `npm run build` does into dist/page) and served by the inspector's node:http
// server. Before Connect it shows the whole chart folded on one screen at 1024x768 and 1400x900,
// what Connect will use and how to start, and opens a compound state on a click. It runs the
// flaky-network story with the client in the page, the story's own faults reading as expected;
// in `agent-lifeline inspect` mode it rides out a gateway restart and a restart of its own local
// server without reloading (the whole top level in view, joined and reconnecting, and Disconnect
// usable while the client retries), follows its client from a draining node of a fleet to the
// other, shows a PraisonAI reply's text in full and never its token, and says so when the client
// gives up. Screenshots go to test-results/ for the CI artifacts.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';
import { attachDemoAgent, createGateway, createMemoryLog, type Gateway } from '../../src/server/index.js';
import { startInspector, type Inspector } from '../../stories/support/inspector-server.js';
import { startFakePraisonAI } from '../conformance/praisonai-fake.js';
import { publishMany } from '../support/gateway-kit.js';
import { checkSizes, infoRows, pageText, SCREENSHOT_DIR, SIZES, waitForStatus } from './page-kit.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = `${SCREENSHOT_DIR}/inspector-flaky-network.png`;

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
  it('before Connect: the whole chart on one screen at 1024x768 and 1400x900, the config and how to start, a click opens a compound state', async () => {
    if (!browser || !inspector) throw new Error('setup failed');
    const page = await browser.newPage({ viewport: SIZES[0] });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await page.goto(inspector.url);
      await page.waitForSelector('svg.chart g.state.active[data-state="gateway.disconnected"]');
      await checkSizes(page, 'disconnected', false);
      // Compound states start folded, and the page says how to open them.
      expect(await page.locator('svg.chart g.state.folded').count()).toBe(3);
      expect(await page.textContent('#expand-hint')).toMatch(/click it to open it/);
      // The side panels say what Connect will use and what will happen.
      expect(await infoRows(page)).toMatchObject({ gateway: inspector.gatewayUrl, agent: 'demo', token: 'none' });
      expect(await page.textContent('.timeline li.placeholder')).toMatch(/Press "Connect": a client in this page connects to .* as agent "demo"/);
      expect(await page.textContent('#run')).toBe('Connect');

      // A click opens a folded state in place; the top level stays on screen; a click on its name closes it.
      await page.setViewportSize(SIZES[0]);
      await page.click('svg.chart g.state.folded[data-state="gateway.reconnecting"]');
      await page.waitForSelector('svg.chart g.state.compound[data-state="gateway.reconnecting"]');
      for (const child of ['waiting', 'offline', 'backpressure']) expect(await page.locator(`svg.chart g.state[data-state="gateway.reconnecting.${child}"]`).count(), child).toBe(1);
      await checkSizes(page, 'disconnected', false);
      await page.click('svg.chart g.state.compound[data-state="gateway.reconnecting"] > text');
      await page.waitForSelector('svg.chart g.state.folded[data-state="gateway.reconnecting"]');
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 30_000);

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
    // The story breaks the link on purpose: the failed attempts read as expected, never as advice
    // to check a URL or a certificate.
    // Whether an attempt meets the refusal at all depends on the jittered backoff (an attempt
    // may wait until the link is back), so the rows are checked, not counted.
    const errors = page.locator('.timeline li[data-kind="error"]');
    expect(await page.locator('.timeline li[data-kind="error"]:not(.expected)').count()).toBe(0);
    for (const row of await errors.allTextContents()) expect(row).not.toMatch(/TLS|check the URL/);
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
      // While the client retries, the page says so and the button can stop it.
      // The summary follows the client's first failed retry, which may land just after the state.
      await expect.poll(() => page.textContent('#summary'), { timeout: 5_000 }).toMatch(/keeps retrying/);
      expect(await page.isEnabled('#run')).toBe(true);
      expect(await page.textContent('#run')).toBe('Disconnect');
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

  it('agent-lifeline inspect --token: watches a PraisonAI gateway at /ws (the token reaches it as ?token=), shows its replies in full and never the token', async () => {
    if (!browser) throw new Error('setup failed');
    const token = 'tok-7f3a9c-never-shown';
    const praison = await startFakePraisonAI({ token, heartbeatMs: 30_000 });
    expect(praison.url).toMatch(/\/ws$/);
    // What `agent-lifeline inspect ws://…/ws --agent echo --token …` starts.
    const local = await startInspector({ port: 0, pageDir, target: { url: praison.url, agentId: 'echo', token } });
    // And the same gateway given with the token in its URL, as README shows it.
    const inUrl = await startInspector({ port: 0, pageDir, target: { url: `${praison.url}?token=${token}`, agentId: 'echo' } });
    const page = await browser.newPage({ viewport: SIZES[0] });
    try {
      await page.goto(local.url);
      await waitForStatus(page, 'live: joined');
      const message = `hello praison, ${'a long message '.repeat(6)}end`;
      await page.fill('#message', message);
      await page.click('#send button');
      // The fake answers in PraisonAI's own dialect: the send is acknowledged and events arrive.
      await page.waitForSelector('.timeline li[data-kind="ack"]', { timeout: 5000 });
      // The reply's text, whole, not cut after a few dozen characters.
      await page.waitForSelector(`.timeline li[data-kind="event"] .payload:has-text("echo: ${message}")`, { timeout: 5000 });
      // Up to a bound: past 4000 characters the row says how many more there were.
      await page.fill('#message', 'x'.repeat(4100));
      await page.click('#send button');
      await page.waitForSelector('.timeline li[data-kind="event"] .payload:has-text("more characters)")', { timeout: 5000 });
      expect(await pageText(page)).not.toContain(token);

      // The token shows nowhere: header, subtitle, node row, story text, hovers.
      await page.goto(inUrl.url);
      await waitForStatus(page, 'live: joined');
      expect(await page.textContent('#node')).toContain('token=[redacted]');
      expect((await infoRows(page))['node']).toContain('token=[redacted]');
      expect(await page.textContent('#summary')).toContain('token=[redacted]');
      expect(await page.textContent('.timeline li[data-kind="step"]')).toContain('token=[redacted]');
      expect(await pageText(page)).not.toContain(token);
    } finally {
      await inUrl.close();
      await page.close();
      await local.close();
      await praison.close();
    }
  });

  it('agent-lifeline inspect: a client that gives up says why and offers Connect; one that retries can be stopped', async () => {
    if (!browser) throw new Error('setup failed');
    // No token for a gateway that wants one: auth_required, which the client does not retry.
    const praison = await startFakePraisonAI({ token: 'wanted', heartbeatMs: 30_000 });
    const refused = await startInspector({ port: 0, pageDir, target: { url: praison.url, agentId: 'echo' } });
    const page = await browser.newPage({ viewport: SIZES[0] });
    try {
      await page.goto(refused.url);
      await waitForStatus(page, 'stopped: auth_required');
      expect(await page.textContent('#summary')).toMatch(/stopped and will not retry\. auth_required/);
      expect(await page.textContent('#run')).toBe('Connect');
      expect(await page.isEnabled('#run')).toBe(true);
    } finally {
      await page.close();
      await refused.close();
      await praison.close();
    }

    // Nothing listens: the client retries, and Disconnect stops it at once.
    const gone = await createGateway({ port: 0, logger: false });
    const url = gone.url;
    await gone.terminate();
    const retrying = await startInspector({ port: 0, pageDir, target: { url, agentId: 'demo' } });
    const second = await browser.newPage({ viewport: SIZES[0] });
    try {
      await second.goto(retrying.url);
      await second.waitForFunction(() => /live: (reconnecting|suspended)/.test(document.getElementById('status')?.textContent ?? ''), null, { timeout: 5000 });
      expect(await second.textContent('#run')).toBe('Disconnect');
      await second.click('#run');
      await waitForStatus(second, 'idle');
      expect(await second.textContent('#run')).toBe('Connect');
      expect((await infoRows(second))['state']).toBe('disconnected');
    } finally {
      await second.close();
      await retrying.close();
    }
  }, 30_000);
});
