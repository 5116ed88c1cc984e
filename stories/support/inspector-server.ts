// What `npm start` runs: the demo gateway (in-memory log, demo agent), the inspector page served
// by Vite's dev server (nothing is fetched from the internet; Vite compiles the page from
// `stories/`), and the control endpoint stories in the page use to script server-side faults.
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { createServer, type Plugin } from 'vite';
import { attachDemoAgent, createGateway, DEMO_EVENT_TYPES, GatewayError, type Gateway } from '../../src/server/index.js';
import { createControlApi } from './control-api.js';

/** Options for {@link startInspector}. */
export interface InspectorOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Port of the page; if taken, Vite picks the next free one. @default 5173 */
  readonly port?: number;
  /** Port of the demo gateway. 0 picks a free one. @default 8787 */
  readonly gatewayPort?: number;
  /** Gateway logs. @default none */
  readonly logger?: Logger | false;
  /** When `gatewayPort` is busy, take a free port instead of failing with `address_in_use`. @default false */
  readonly gatewayPortFallback?: boolean;
}

/** A running inspector. */
export interface Inspector {
  /** The page, e.g. `http://127.0.0.1:5173/`. */
  readonly url: string;
  /** The demo gateway the page's live mode connects to. */
  readonly gatewayUrl: string;
  /** Stop the page server, any story stage, and the demo gateway. */
  close(): Promise<void>;
}

const STORIES_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** Start the gateway, the control endpoint and the page. */
export async function startInspector(options: InspectorOptions = {}): Promise<Inspector> {
  const host = options.host ?? '127.0.0.1';
  const startGateway = (port: number): Promise<Gateway> =>
    createGateway({
      host,
      port,
      logger: options.logger ?? false,
      eventTypes: DEMO_EVENT_TYPES,
      // Short enough that the live page shows heartbeats doing their job.
      heartbeatMs: 5000,
    });
  const preferred = options.gatewayPort ?? 8787;
  const gateway = await startGateway(preferred).catch((error: unknown) => {
    if (options.gatewayPortFallback && error instanceof GatewayError && error.code === 'address_in_use') return startGateway(0);
    throw error;
  });
  const detachDemo = attachDemoAgent(gateway, 'demo');
  const control = createControlApi(gateway.url);
  const controlPlugin: Plugin = {
    name: 'lifeline-control',
    configureServer(server) {
      server.middlewares.use((req, res, next) => control.handle(req, res, next));
    },
  };

  let vite;
  try {
    vite = await createServer({
      configFile: false,
      root: STORIES_DIR,
      logLevel: 'warn',
      clearScreen: false,
      plugins: [controlPlugin],
      server: { host, port: options.port ?? 5173, strictPort: false, fs: { allow: [REPO_DIR] } },
      // Pre-bundle every dependency up front: discovering one on first load makes Vite reload the
      // page, which would restart a story midway.
      optimizeDeps: {
        entries: ['index.html'],
        include: ['elkjs/lib/elk.bundled.js', 'isomorphic-ws', 'xstate', 'xstate/graph', 'valibot'],
      },
    });
    await vite.listen();
  } catch (error) {
    await control.close();
    detachDemo();
    await gateway.close();
    throw error;
  }
  const url = vite.resolvedUrls?.local[0] ?? `http://${host}:${options.port ?? 5173}/`;
  const server = vite;
  return {
    url,
    gatewayUrl: gateway.url,
    async close() {
      await server.close();
      await control.close();
      detachDemo();
      await gateway.close();
    },
  };
}
