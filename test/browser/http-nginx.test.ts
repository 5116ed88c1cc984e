// The HTTP binding in a real headless Chromium (Debian's, driven by playwright-core) behind a real
// nginx that does not pass Upgrade (test/support/nginx.ts), from a page of another origin, so
// CORS is the browser's own: the gateway allows only that page's origin. A plain `EventSource`
// follows a session and, when the network behind nginx drops, the browser reconnects by itself
// with Last-Event-ID and gets exactly what it missed. The full client, built for the browser by
// Vite from this checkout, cannot open a WebSocket through nginx, falls back to HTTP, joins, sends
// with an ack and resumes after the same drop.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../src/testing/index.js';
import { join, publishMany } from '../support/gateway-kit.js';
import { startNginx, type Nginx } from '../support/nginx.js';
import { CHROMIUM_PATH } from '../support/system.js';

const bundleDir = mkdtempSync(joinPath(tmpdir(), 'lifeline-client-bundle-'));
let browser: Browser | undefined;
let pageServer: Server | undefined;
let pageOrigin = '';
let gateway: TestGateway | undefined;
let nginx: Nginx | undefined;
const applied: unknown[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH}. Install it (apt-get install chromium); the browser test never downloads one.`);
  // The client as a browser gets it: one ES module, its dependencies bundled, browser builds chosen.
  await build({
    configFile: false,
    logLevel: 'warn',
    build: { outDir: bundleDir, emptyOutDir: true, minify: false, sourcemap: false, reportCompressedSize: false, lib: { entry: 'src/client/index.ts', formats: ['es'], fileName: () => 'client.js' } },
  });
  const files: Readonly<Record<string, { type: string; body: string }>> = {
    '/': { type: 'text/html', body: '<!doctype html><title>another origin, no library</title>' },
    '/client.html': { type: 'text/html', body: '<!doctype html><title>another origin, the client</title><script type="module">import * as lifeline from "./client.js"; window.lifeline = lifeline;</script>' },
    '/client.js': { type: 'text/javascript', body: readFileSync(joinPath(bundleDir, 'client.js'), 'utf8') },
  };
  pageServer = createServer((req, res) => {
    const file = files[req.url ?? ''];
    if (file) res.writeHead(200, { 'content-type': file.type }).end(file.body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => pageServer?.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
  gateway = await startTestGateway({
    allowedOrigins: [pageOrigin],
    setup: (gw) =>
      gw.onMessage((message) => {
        applied.push(message.content);
      }),
  });
  nginx = await startNginx({ upstreamPort: gateway.proxy.port });
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await nginx?.stop();
  await gateway?.close();
  await new Promise((resolve) => pageServer?.close(resolve));
  rmSync(bundleDir, { recursive: true, force: true });
});

/** A page of the other origin, with its errors collected. */
async function openPage(path: '/' | '/client.html'): Promise<{ page: Page; errors: string[] }> {
  if (!browser) throw new Error('setup failed');
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${pageOrigin}${path}`);
  return { page, errors };
}

/** The client bundle's exports, as the page's module script puts them on `window`. */
type WithLifeline = Window & { lifeline?: typeof import('../../src/client/index.js') };

/** What the page recorded of its stream: each message's frame type, seq and id. */
interface Seen {
  readonly type: string;
  readonly seq: number | null;
  readonly id: string;
}
/** The EventSource page's window: its messages, and how many times the stream opened. */
type EventSourceWindow = Window & { readonly follow: { readonly seen: Seen[]; opens: number } };

/** The client page's window: the client and what its app saw. */
type ClientWindow = Window & {
  readonly app: { readonly client: import('../../src/client/index.js').GatewayClient; readonly seqs: Array<number | null>; gaps: number };
};

describe('the HTTP binding in Chromium behind nginx that does not pass Upgrade', () => {
  it('a plain EventSource follows a session and, after the network behind nginx drops, resumes by Last-Event-ID: no gap, no duplicate', { timeout: 30_000 }, async () => {
    if (!gateway || !nginx) throw new Error('setup failed');
    const { helloOk } = await join(gateway.url);
    const sessionId = String(helloOk['session_id']);
    const epoch = String(helloOk['epoch']);
    const { page, errors } = await openPage('/');
    try {
      await page.evaluate((url) => {
        const follow = { seen: [] as Seen[], opens: 0 };
        Object.assign(window, { follow });
        const es = new EventSource(url);
        es.onopen = () => void follow.opens++;
        es.onmessage = (m: MessageEvent<string>) => {
          const frame = JSON.parse(m.data) as { type: string; seq?: number };
          follow.seen.push({ type: frame.type, seq: frame.seq ?? null, id: m.lastEventId });
        };
      }, `${nginx.httpUrl}/sessions/${encodeURIComponent(sessionId)}/events?agent=demo`);
      /** Resolve once the page has received `count` event or replay messages. */
      const events = (count: number) =>
        page.waitForFunction((n) => (window as unknown as EventSourceWindow).follow.seen.filter((s) => s.type === 'event' || s.type === 'replay').length >= n, count, { timeout: 5000 });
      await page.waitForFunction(() => (window as unknown as EventSourceWindow).follow.seen.some((s) => s.type === 'caught_up'), undefined, { timeout: 5000 });
      await publishMany(gateway.gateway, sessionId, 3);
      await events(3);

      // The network behind nginx resets: nginx ends the stream, and the browser reconnects by
      // itself after the stream's `retry:` with Last-Event-ID. Two events are published meanwhile.
      gateway.proxy.drop();
      await publishMany(gateway.gateway, sessionId, 2);
      await events(5);
      await publishMany(gateway.gateway, sessionId, 1);
      await events(6);

      const { seen: messages, opens } = await page.evaluate(() => (window as unknown as EventSourceWindow).follow);
      expect(opens).toBe(2);
      const helloOks = messages.filter((m) => m.type === 'hello_ok');
      expect(helloOks).toHaveLength(2);
      expect(messages.filter((m) => m.type === 'event' || m.type === 'replay').map((m) => [m.type, m.id])).toEqual([
        ['event', `${epoch}:1`],
        ['event', `${epoch}:2`],
        ['event', `${epoch}:3`],
        ['replay', `${epoch}:4`],
        ['replay', `${epoch}:5`],
        ['event', `${epoch}:6`],
      ]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('the full client, bundled for the browser, falls back to HTTP, joins, sends with an ack and resumes after the same drop', { timeout: 30_000 }, async () => {
    if (!gateway || !nginx) throw new Error('setup failed');
    applied.length = 0;
    const { page, errors } = await openPage('/client.html');
    try {
      await page.waitForFunction(() => (window as WithLifeline).lifeline !== undefined, undefined, { timeout: 5000 });
      const joined = await page.evaluate(async (url) => {
        const lifeline = (window as WithLifeline).lifeline;
        if (!lifeline) throw new Error('the client bundle did not load');
        const { createGatewayClient } = lifeline;
        const client = createGatewayClient({ url, agentId: 'demo' });
        const app = { seqs: [] as Array<number | null>, gaps: 0, client };
        Object.assign(window, { app });
        client.onEvent((event) => void app.seqs.push(event.seq));
        client.onGap(() => void app.gaps++);
        await client.connect({ timeoutMs: 10_000 });
        return { transport: client.info.transport, sessionId: client.info.sessionId };
      }, nginx.url);
      expect(joined.transport).toBe('http');
      const sessionId = joined.sessionId ?? '';

      /** Resolve once the page's app has `count` events and its client is joined. */
      const events = (count: number, timeout = 5000) =>
        page.waitForFunction((n) => (window as unknown as ClientWindow).app.seqs.length >= n && (window as unknown as ClientWindow).app.client.state === 'joined', count, { timeout });
      await publishMany(gateway.gateway, sessionId, 2);
      await events(2);
      const ack = await page.evaluate(() => (window as unknown as ClientWindow).app.client.send({ from: 'chromium' }));
      expect(ack.acknowledged).toBe(true);
      expect(applied).toEqual([{ from: 'chromium' }]);

      gateway.proxy.drop();
      await publishMany(gateway.gateway, sessionId, 2);
      await events(4, 10_000);
      await publishMany(gateway.gateway, sessionId, 1);
      await events(5);
      const end = await page.evaluate(() => {
        const { seqs, gaps, client } = (window as unknown as ClientWindow).app;
        return { seqs, gaps, transport: client.info.transport, resume: client.info.resume };
      });
      expect(end).toEqual({ seqs: [1, 2, 3, 4, 5], gaps: 0, transport: 'http', resume: { mode: 'full', from: 3, to: 4 } });
      expect(errors).toEqual([]);
      await page.evaluate(() => (window as unknown as ClientWindow).app.client.disconnect());
    } finally {
      await page.close();
    }
  });
});
