// The attacks on the local control endpoints from a real browser (Debian's Chromium, driven by
// playwright-core): a page of another origin POSTs to `agent-lifeline proxy`'s switch and to the
// inspector's stage route the way a page can without CORS (`mode: 'no-cors'`, text/plain), and a
// DNS-rebinding page (a name Chromium resolves to 127.0.0.1) asks the inspector for its config.
// None of it switches the proxy, makes a stage or reads the token.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInspector, type Inspector } from '../../stories/support/inspector-server.js';
import { spawnCli } from '../support/cli-process.js';
import { startGateway } from '../support/gateway-kit.js';
import { CHROMIUM_PATH } from '../support/system.js';

const REBIND_HOST = 'rebind.lifeline.test';
const dir = mkdtempSync(join(tmpdir(), 'lifeline-local-control-'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>stub</title>');
let browser: Browser | undefined;
let inspector: Inspector | undefined;
let evil: Server | undefined;

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    // The rebinding attacker's name resolves to this machine, as its DNS would make it.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--host-resolver-rules=MAP ${REBIND_HOST} 127.0.0.1`],
  });
  inspector = await startInspector({ port: 0, gatewayPort: 0, pageDir: dir });
  evil = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>another site</title>'));
  await new Promise<void>((resolve) => evil?.listen(0, '127.0.0.1', resolve));
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await inspector?.close();
  await new Promise((resolve) => evil?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('the local control endpoints, attacked from a browser', () => {
  it('a page of another origin cannot switch the proxy or make a stage, even knowing the keys', { timeout: 40_000 }, async () => {
    if (!browser || !inspector || !evil) throw new Error('setup failed');
    const gateway = await startGateway();
    const proxy = spawnCli(['proxy', '--to', gateway.url, '--port', '0'], { env: { XDG_RUNTIME_DIR: dir } });
    const [, control, proxyKey] = await proxy.waitForOutput(/control: (http:\/\/\S+)\/\?key=([\w-]+)/);
    const address = evil.address();
    if (address === null || typeof address === 'string') throw new Error('no address');

    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${address.port}/`);
      const stage = new URL('/control/stage', inspector.url).href;
      const settled = await page.evaluate(
        async ({ control, proxyKey, stage, inspectorKey }) => {
          const body = JSON.stringify({ story: 'flaky-network' });
          const attempts = [
            fetch(`${control}/refuse`, { method: 'POST', mode: 'no-cors' }),
            fetch(`${control}/refuse?key=${proxyKey}`, { method: 'POST', mode: 'no-cors' }),
            fetch(stage, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body }),
            fetch(`${stage}?key=${inspectorKey}`, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body }),
          ];
          // Each request reaches the server (no-cors answers are opaque); wait until all are done.
          return (await Promise.allSettled(attempts)).map((r) => r.status);
        },
        { control: control ?? '', proxyKey: proxyKey ?? '', stage, inspectorKey: inspector.key },
      );
      expect(settled).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);

      const status = await fetch(`${control ?? ''}/`, { headers: { 'X-Lifeline-Control': proxyKey ?? '' } });
      expect(await status.json()).toMatchObject({ mode: 'pass' });
      const call = await fetch(`${stage}/call`, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Lifeline-Control': inspector.key }, body: JSON.stringify({ method: 'stats', args: [] }) });
      expect(call.status, 'no stage was made').toBe(409);
      expect(proxy.output.stdout).not.toContain('now refuse');
    } finally {
      await page.close();
      await gateway.terminate();
    }
  });

  it('a DNS-rebinding page on the inspector port reads nothing: its Host is not the server', { timeout: 20_000 }, async () => {
    if (!browser || !inspector) throw new Error('setup failed');
    const port = new URL(inspector.url).port;
    const page = await browser.newPage();
    try {
      const response = await page.goto(`http://${REBIND_HOST}:${port}/`);
      expect(response?.status()).toBe(403);
      // Now same-origin with the server as far as the browser knows, so it could read answers.
      const answers = await page.evaluate(async (key) => {
        const read = async (path: string): Promise<string> => {
          const r = await fetch(path, { headers: { 'X-Lifeline-Control': key } });
          return `${r.status} ${await r.text()}`;
        };
        return [await read('/control/config'), await read(`/control/info?key=${key}`)];
      }, inspector.key);
      expect(answers.map((a) => a.slice(0, 3))).toEqual(['403', '403']);
      expect(answers.join('')).toContain('forbidden_host');
    } finally {
      await page.close();
    }
  });
});
