// The inspector's local server without a browser: `npm start` swaps busy default ports for free
// ones (and says which it got), explicit ports are refused with address_in_use, the page's config
// and event stream are served, and `agent-lifeline inspect` refuses a URL it cannot use in one line.
// `agent-lifeline inspect` given several nodes runs as a real process and hands the page all of them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { run as inspect } from '../../src/cli/inspect-command.js';
import { GatewayError } from '../../src/server/index.js';
import { MAX_PAGE_STREAMS, startInspector, type Inspector } from '../../stories/support/inspector-server.js';
import { busyPort, captureStderr } from '../support/busy-port.js';
import { controlUrl } from '../support/inspector-urls.js';
import { spawnCli } from '../support/cli-process.js';
import { startGateway } from '../support/gateway-kit.js';

const pageDir = mkdtempSync(join(tmpdir(), 'lifeline-stub-page-'));
writeFileSync(join(pageDir, 'index.html'), '<!doctype html><title>stub</title>');
afterAll(() => rmSync(pageDir, { recursive: true, force: true }));

const inspectors: Inspector[] = [];
afterEach(async () => {
  await Promise.all(inspectors.splice(0).map((i) => i.close()));
});

describe('inspector server', () => {
  it('takes free ports when the defaults are busy, and refuses busy explicit ones', async () => {
    const [page, gateway] = [await busyPort(), await busyPort()];
    const inspector = await startInspector({ port: page, portFallback: true, gatewayPort: gateway, gatewayPortFallback: true, pageDir });
    inspectors.push(inspector);
    expect(new URL(inspector.url).port).not.toBe(String(page));
    expect(new URL(inspector.gatewayUrl).port).not.toBe(String(gateway));
    expect(await (await fetch(inspector.url)).text()).toContain('stub');

    const refused: unknown = await startInspector({ port: 0, gatewayPort: gateway, pageDir }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayError);
    expect(refused).toMatchObject({ code: 'address_in_use', port: gateway });
    const refusedPage: unknown = await startInspector({ port: page, gatewayPort: 0, pageDir }).catch((e: unknown) => e);
    expect(refusedPage).toMatchObject({ code: 'address_in_use', port: page });
  });

  it('serves the page its config and an event stream that starts with it', async () => {
    const inspector = await startInspector({ port: 0, pageDir, target: { url: 'ws://127.0.0.1:9/ws?token=t', agentId: 'bot' } });
    inspectors.push(inspector);
    const config = { mode: 'inspect', gatewayUrl: 'ws://127.0.0.1:9/ws?token=t', agentId: 'bot' };
    expect(await (await fetch(controlUrl(inspector.url, 'control/config'))).json()).toEqual(config);
    const stream = await fetch(controlUrl(inspector.url, 'control/events'));
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const reader = stream.body?.getReader();
    const first = new TextDecoder().decode((await reader?.read())?.value);
    expect(first).toContain(`event: config\ndata: ${JSON.stringify(config)}`);
    await reader?.cancel();
    // Inspect mode has no stories: the control endpoint is not there.
    expect((await fetch(controlUrl(inspector.url, 'control/info'))).status).toBe(404);
    expect((await fetch(new URL('../../package.json', inspector.url))).status).toBe(404);
  });

  it(`keeps at most ${MAX_PAGE_STREAMS} open pages and tells the next one what to do`, async () => {
    const inspector = await startInspector({ port: 0, pageDir, target: { url: 'ws://127.0.0.1:9', agentId: 'bot' } });
    inspectors.push(inspector);
    const open = await Promise.all(Array.from({ length: MAX_PAGE_STREAMS }, () => fetch(controlUrl(inspector.url, 'control/events'))));
    expect(open.every((r) => r.status === 200)).toBe(true);
    const refused = await fetch(controlUrl(inspector.url, 'control/events'));
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'too_many_pages', nextStep: expect.stringContaining('Close') });
    await Promise.all(open.map((r) => r.body?.cancel()));
  });

  it('a page that is not built is a configuration_error with the command that builds it', async () => {
    const error: unknown = await startInspector({ port: 0, pageDir: join(pageDir, 'missing') }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'configuration_error', nextStep: expect.stringContaining('npm run build') });
  });

  it.each([
    [['http://127.0.0.1:8787', '--agent', 'demo'], /must start with ws:\/\/ or wss:\/\//],
    [['not a url', '--agent', 'demo'], /is not a URL/],
    [['ws://127.0.0.1:8787'], /--agent is required/],
    [[], /a gateway URL is required/],
    [['ws://127.0.0.1:8801', 'http://127.0.0.1:8802', '--agent', 'demo'], /must start with ws:\/\/ or wss:\/\/, got "http:\/\/127.0.0.1:8802"/],
    [['ws://127.0.0.1:8801', 'ws://127.0.0.1:8801/', '--agent', 'demo'], /ws:\/\/127.0.0.1:8801\/ is given twice/],
  ])('agent-lifeline inspect %j says what is wrong and exits 2', async (args, message) => {
    const { code, stderr } = await captureStderr(() => inspect(args));
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toMatch(message);
  });

  it('agent-lifeline inspect takes several nodes: the page is told all of them, in order; Ctrl-C exits 0', { timeout: 30_000 }, async () => {
    const [a, b] = [await startGateway(), await startGateway()];
    try {
      // The checkout's built page (npm ci builds it), as `npm run inspect` serves it.
      const cli = spawnCli(['inspect', a.url, b.url, '--agent', 'demo', '--port', '0']);
      const [, page] = await cli.waitForOutput(/Lifeline inspector\s+(http:\/\/\S+)/);
      expect(cli.output.stdout).toContain(`Watching             ${a.url}/ ${b.url}/  (agent "demo")`);
      expect(await (await fetch(controlUrl(page ?? '', 'control/config'))).json()).toEqual({ mode: 'inspect', gatewayUrl: `${a.url}/`, gatewayUrls: [`${a.url}/`, `${b.url}/`], agentId: 'demo' });
      expect(cli.output.stderr).toBe('');
      cli.child.kill('SIGINT');
      expect(await cli.exited()).toBe(0);
    } finally {
      await a.terminate();
      await b.terminate();
    }
  });
});
