// The inspector's local server, on node:http alone (no Vite at run time): it serves the page
// built into dist/page, tells the page which gateway to watch, keeps an event stream open that
// the page reconnects to (so it notices a restart of this server without reloading), and, for
// `npm start`, runs the demo gateway and the control endpoint stories use to script faults.
// Everything under /control/ needs this run's key, which the printed URL carries (`?key=`) and
// the page passes on; requests naming another Host or coming from another web origin are refused
// (control-guard.ts), so a web page cannot drive stories or read the token.
//   GET /control/config   {mode, gatewayUrl, gatewayUrls?, agentId, token?}: what the page's client connects to
//   GET /control/events   server-sent events: `config` on every (re)connect, then keep-alives
//   /control/...          the stories' control endpoint (start mode only, control-api.ts)
//   anything else         a file of the built page
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { attachDemoAgent, createGateway, DEMO_EVENT_TYPES, GatewayError, type Gateway } from '../../src/server/index.js';
import { listenOn } from '../../src/server/listen.js';
import { createControlApi, type ControlApi } from './control-api.js';
import { CONTROL_KEY_PARAM, createControlGuard, sendRefusal } from './control-guard.js';
import { serveStatic } from './static-files.js';

/** What the page's live client connects to, and whether stories can run. */
export interface InspectorConfig {
  /** `start`: the demo gateway plus stories; `inspect`: the gateway (or fleet nodes) given by the user, live only. */
  readonly mode: 'start' | 'inspect';
  /** The gateway, or the first node of `gatewayUrls`. */
  readonly gatewayUrl: string;
  /** Every node, when `agent-lifeline inspect` was given several: the client tries them in turn (its `url` list). */
  readonly gatewayUrls?: readonly string[];
  readonly agentId: string;
  /** The client's `token` option: `hello.token`, and `?token=` too on a `/ws` URL (PraisonAI's). */
  readonly token?: string;
}

/** Options for {@link startInspector}. */
export interface InspectorOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Port of the page. 0 picks a free one. @default 5173 */
  readonly port?: number;
  /** When `port` is busy, take a free port instead of failing with `address_in_use`. @default false */
  readonly portFallback?: boolean;
  /** Watch this gateway (or these nodes of a fleet, failing over between them) instead of starting the demo one (`agent-lifeline inspect`). */
  readonly target?: { readonly url: string | readonly string[]; readonly agentId: string; readonly token?: string };
  /** Port of the demo gateway (start mode). 0 picks a free one. @default 8787 */
  readonly gatewayPort?: number;
  /** When `gatewayPort` is busy, take a free port instead of failing with `address_in_use`. @default false */
  readonly gatewayPortFallback?: boolean;
  /** Demo gateway logs. @default none */
  readonly logger?: Logger | false;
  /** The built page (`index.html` and its assets). @default dist/page of this package */
  readonly pageDir?: string;
  /** The key every /control/ request must carry. @default a fresh random key per call */
  readonly controlKey?: string;
}

/** A running inspector. */
export interface Inspector {
  /** The page with this run's key, e.g. `http://127.0.0.1:5173/?key=…`: the URL to open. */
  readonly url: string;
  /** This run's key, which every /control/ request must carry (`?key=` or `X-Lifeline-Control`). */
  readonly key: string;
  /** The gateway the page's live mode connects to (the first, given several). */
  readonly gatewayUrl: string;
  /** Every gateway node the page's live mode connects to, in the order it tries them. */
  readonly gatewayUrls: readonly string[];
  /** Stop the page server, its event streams, any story stage, and the demo gateway. */
  close(): Promise<void>;
}

/** Keep-alive period of the event stream, under common proxy idle timeouts. */
const KEEPALIVE_MS = 15_000;
/** What EventSource waits before reconnecting to a restarted server. */
const RECONNECT_MS = 500;
/** Open pages (event streams) one local server keeps; past it a page is told to close others. */
export const MAX_PAGE_STREAMS = 64;

/**
 * Where the built page lives: `dist/page`, next to the compiled `dist/stories/` in the package,
 * or under the checkout's `dist/` when running from source.
 */
export function defaultPageDir(): string {
  const shipped = fileURLToPath(new URL('../../page/', import.meta.url));
  return existsSync(`${shipped}index.html`) ? shipped : fileURLToPath(new URL('../../dist/page/', import.meta.url));
}

/** Try `port`; if it is busy and `fallback` is set, any free port. */
async function withFallback<T>(port: number, fallback: boolean | undefined, start: (port: number) => Promise<T>): Promise<T> {
  try {
    return await start(port);
  } catch (error) {
    if (fallback && error instanceof GatewayError && error.code === 'address_in_use') return start(0);
    throw error;
  }
}

async function startDemoGateway(host: string, options: InspectorOptions): Promise<{ gateway: Gateway; detach: () => void }> {
  const gateway = await withFallback(options.gatewayPort ?? 8787, options.gatewayPortFallback, (port) =>
    createGateway({
      host,
      port,
      logger: options.logger ?? false,
      eventTypes: DEMO_EVENT_TYPES,
      // Short enough that the live page shows heartbeats doing their job.
      heartbeatMs: 5000,
    }),
  );
  return { gateway, detach: attachDemoAgent(gateway, 'demo') };
}

/** The page's config for `agent-lifeline inspect`; one URL keeps the config it always had (no `gatewayUrls`). */
function targetConfig(target: NonNullable<InspectorOptions['target']>): InspectorConfig {
  const urls = typeof target.url === 'string' ? [target.url] : target.url;
  const first = urls[0];
  if (first === undefined) throw new GatewayError('configuration_error', 'The inspector was given no gateway URL.', { nextStep: 'Give at least one ws:// URL.' });
  return {
    mode: 'inspect',
    gatewayUrl: first,
    ...(urls.length > 1 ? { gatewayUrls: [...urls] } : {}),
    agentId: target.agentId,
    ...(target.token === undefined ? {} : { token: target.token }),
  };
}

/** Start the local server (and, without a `target`, the demo gateway and the control endpoint). */
export async function startInspector(options: InspectorOptions = {}): Promise<Inspector> {
  const host = options.host ?? '127.0.0.1';
  const pageDir = options.pageDir ?? defaultPageDir();
  if (!existsSync(`${pageDir}/index.html`)) {
    throw new GatewayError('configuration_error', `The inspector page is not built (no ${pageDir}/index.html).`, { nextStep: 'Run npm run build, which builds the page with the package.' });
  }
  const demo = options.target ? undefined : await startDemoGateway(host, options);
  const config: InspectorConfig = options.target ? targetConfig(options.target) : { mode: 'start', gatewayUrl: demo?.gateway.url ?? '', agentId: 'demo' };
  const control: ControlApi | undefined = demo ? createControlApi(demo.gateway.url) : undefined;
  const streams = new Set<ServerResponse>();

  const openStream = (res: ServerResponse): void => {
    if (streams.size >= MAX_PAGE_STREAMS) {
      const body = { code: 'too_many_pages', message: `This inspector already serves ${MAX_PAGE_STREAMS} open pages.`, nextStep: 'Close inspector tabs you no longer watch.' };
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(`retry: ${RECONNECT_MS}\nevent: config\ndata: ${JSON.stringify(config)}\n\n`);
    streams.add(res);
    // A page that went away mid-write must not become an unhandled 'error'.
    res.on('error', () => streams.delete(res));
    res.on('close', () => streams.delete(res));
  };
  const keepalive = setInterval(() => streams.forEach((res) => res.write(': keep-alive\n\n')), KEEPALIVE_MS);

  let port = 0;
  const guard = createControlGuard({ host, port: () => port, ...(options.controlKey === undefined ? {} : { key: options.controlKey }) });
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const refused = path.startsWith('/control/') ? guard.refuseControl(req) : guard.refuseHost(req);
    if (refused) return sendRefusal(res, refused);
    if (req.method === 'GET' && path === '/control/config') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(config));
      return;
    }
    if (req.method === 'GET' && path === '/control/events') return openStream(res);
    const notFound = (): void => void serveStatic(pageDir, req, res);
    if (control) control.handle(req, res, notFound);
    else notFound();
  };
  const server = createServer((req, res) => handle(req, res));

  try {
    port = await withFallback(options.port ?? 5173, options.portFallback, (p) => listenOn(server, host, p, () => undefined));
  } catch (error) {
    clearInterval(keepalive);
    await control?.close();
    demo?.detach();
    await demo?.gateway.close();
    throw error;
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/?${CONTROL_KEY_PARAM}=${guard.key}`,
    key: guard.key,
    gatewayUrl: config.gatewayUrl,
    gatewayUrls: config.gatewayUrls ?? [config.gatewayUrl],
    async close() {
      clearInterval(keepalive);
      for (const res of streams) res.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await control?.close();
      demo?.detach();
      await demo?.gateway.close();
    },
  };
}
