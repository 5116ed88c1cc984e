// The local control endpoints over real HTTP: `agent-lifeline proxy`'s switch and the inspector
// server of `start`/`inspect`. Each answers only requests that carry this run's key, name its own
// Host and come from no other web origin; everything else gets 403 with a code and a next step,
// and changes nothing. The same attacks from a real browser are in test/browser/local-control.test.ts.
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createNetworkSwitch, serveNetworkSwitch, type ControlEndpoint } from '../../src/cli/proxy-control.js';
import { startInspector, type Inspector } from '../../stories/support/inspector-server.js';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.js';

const pageDir = mkdtempSync(join(tmpdir(), 'lifeline-stub-page-'));
writeFileSync(join(pageDir, 'index.html'), '<!doctype html><title>stub</title>');
afterAll(() => rmSync(pageDir, { recursive: true, force: true }));

let proxy: FaultProxy | undefined;
let control: ControlEndpoint | undefined;
const inspectors: Inspector[] = [];
afterEach(async () => {
  await control?.close();
  await proxy?.close();
  await Promise.all(inspectors.splice(0).map((i) => i.close()));
});

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One HTTP request with exactly these headers (fetch would not let us set Host). */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 5 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

const code = (answer: Answer): unknown => (JSON.parse(answer.body) as { code?: unknown }).code;

async function startSwitch(): Promise<{ url: string; key: string; mode: () => string }> {
  proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: 9 } });
  const network = createNetworkSwitch(proxy, 'gw');
  control = await serveNetworkSwitch(network, '127.0.0.1', 0, () => undefined);
  return { url: control.url, key: control.key, mode: () => network.status().mode };
}

describe("agent-lifeline proxy's control endpoint", () => {
  it('refuses, with 403 and a reason, a request without the key, with a wrong one, from another origin or for another host', async () => {
    const { url, key, mode } = await startSwitch();
    const host = new URL(url).host;
    const attempts: Array<[string, Parameters<typeof send>[1], string]> = [
      ['no key', { method: 'POST' }, 'control_key_required'],
      ['a wrong key', { method: 'POST', headers: { 'X-Lifeline-Control': `${key}x` } }, 'control_key_required'],
      ['an empty key', { method: 'POST', headers: { authorization: 'Bearer ' } }, 'control_key_required'],
      ['a page of another origin, no-cors', { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'text/plain' } }, 'forbidden_origin'],
      ['another origin, even with the key', { method: 'POST', headers: { origin: 'http://evil.example', 'X-Lifeline-Control': key } }, 'forbidden_origin'],
      ['another port of this host, with the key', { method: 'POST', headers: { origin: 'http://127.0.0.1:1', 'X-Lifeline-Control': key } }, 'forbidden_origin'],
      ['a cross-site fetch without Origin, with the key', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site', 'X-Lifeline-Control': key } }, 'forbidden_origin'],
      ['DNS rebinding: a name that resolves here, with the key', { method: 'POST', headers: { host: `rebind.evil.example:${new URL(url).port}`, 'X-Lifeline-Control': key } }, 'forbidden_host'],
      ['this host on another port, with the key', { method: 'POST', headers: { host: '127.0.0.1:1', 'X-Lifeline-Control': key } }, 'forbidden_host'],
    ];
    for (const [why, options, expected] of attempts) {
      const answer = await send(`${url}/refuse`, options);
      expect({ why, status: answer.status, code: code(answer) }).toEqual({ why, status: 403, code: expected });
      expect(JSON.parse(answer.body)).toMatchObject({ message: expect.any(String), nextStep: expect.any(String) });
      expect(answer.body, 'a refusal never shows the key').not.toContain(key);
    }
    // The status is a control route too: it needs the key.
    expect((await send(`${url}/`)).status).toBe(403);
    expect(mode()).toBe('pass');

    // What curl sends, in each form the proxy accepts; localhost names this server as well.
    expect((await send(`${url}/stall`, { method: 'POST', headers: { 'X-Lifeline-Control': key } })).status).toBe(200);
    expect(mode()).toBe('stall');
    expect((await send(`${url}/refuse`, { method: 'POST', headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    expect(mode()).toBe('refuse');
    expect((await send(`${url}/pass?key=${key}`, { method: 'POST', headers: { host: `localhost:${new URL(url).port}`, origin: `http://${host}` } })).status).toBe(200);
    expect(mode()).toBe('pass');
  });
});

describe('the inspector server', () => {
  it('start: a text/plain POST cannot create a stage, without the key or from another origin; the page itself still loads', async () => {
    const inspector = await startInspector({ port: 0, gatewayPort: 0, pageDir });
    inspectors.push(inspector);
    const page = new URL(inspector.url);
    const stage = `${page.origin}/control/stage`;
    const story = JSON.stringify({ story: 'flaky-network' });
    expect(code(await send(stage, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: story }))).toBe('control_key_required');
    expect(code(await send(stage, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'http://evil.example', 'X-Lifeline-Control': inspector.key }, body: story }))).toBe('forbidden_origin');
    // With the key but as a form or text/plain body (what a page can send without asking): refused too.
    expect((await send(`${stage}?key=${inspector.key}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: story })).status).toBe(415);
    // No stage was made by any of them.
    const call = await send(`${stage}/call`, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Lifeline-Control': inspector.key }, body: JSON.stringify({ method: 'stats', args: [] }) });
    expect(call.status).toBe(409);

    // The page's files need no key (a link may open it), but only under this server's own Host.
    expect(await send(page.origin)).toMatchObject({ status: 200, body: expect.stringContaining('stub') });
    expect((await send(page.origin, { headers: { host: `rebind.evil.example:${page.port}` } })).status).toBe(403);
  });

  it('inspect: the config with the token is served only with the key and only under its own Host (DNS rebinding)', async () => {
    const inspector = await startInspector({ port: 0, pageDir, target: { url: 'ws://127.0.0.1:9/ws', agentId: 'bot', token: 'tok-secret-42' } });
    inspectors.push(inspector);
    const { origin, port } = new URL(inspector.url);
    const config = `${origin}/control/config`;
    for (const answer of [
      await send(config),
      await send(`${config}?key=${inspector.key}`, { headers: { host: `rebind.evil.example:${port}` } }),
      await send(`${origin}/control/events`),
    ]) {
      expect(answer.status).toBe(403);
      expect(answer.body).not.toContain('tok-secret-42');
    }
    const allowed = await send(`${config}?key=${inspector.key}`);
    expect(allowed.status).toBe(200);
    expect(JSON.parse(allowed.body)).toMatchObject({ token: 'tok-secret-42' });
    // Each start makes its own key.
    const other = await startInspector({ port: 0, pageDir, target: { url: 'ws://127.0.0.1:9', agentId: 'bot' } });
    inspectors.push(other);
    expect(other.key).not.toBe(inspector.key);
    expect(other.key).toMatch(/^[\w-]{32}$/);
  });
});
