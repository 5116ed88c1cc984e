// HTTP-transport client process, for the `http` bench. Two modes:
//   live <url> <transport> <m> <session>   one Lifeline client on that transport (defaults
//                                otherwise) joins the session; it tells `done` with the time it
//                                had received `m` events.
//   drop <gatewayPort> <k>       k clients over WebSocket and k over HTTP, all with the default
//                                options, reach the gateway through one TCP fault proxy in this
//                                process. On `drop` the proxy resets every connection; each client
//                                reports the time from the reset to joined again, and the backoff
//                                wait its chart drew on the way (the policy's part of that time).
import { createGatewayClient, type GatewayClient } from '../../src/client/index.js';
import { createFaultProxy } from '../../src/testing/fault-proxy.js';
import { serve, tell, wallNow } from '../lib/proc.js';

type Transport = 'websocket' | 'http';

function clientFor(url: string, transport: Transport, sessionId?: string): GatewayClient {
  // The WebSocket client keeps the default transports: it opens over WebSocket at once.
  return createGatewayClient({ url, agentId: 'bench', ...(sessionId === undefined ? {} : { sessionId }), ...(transport === 'http' ? { transports: ['http'] as const } : {}) });
}

async function live(url: string, transport: Transport, m: number, sessionId: string): Promise<void> {
  const client = clientFor(url, transport, sessionId);
  let got = 0;
  client.onEvent(() => {
    if (++got === m) tell({ type: 'done', at: wallNow(), transport: client.info.transport });
  });
  serve(async (msg) => {
    if (msg.type === 'close') {
      await client.disconnect();
      tell({ type: 'closed' });
    }
  });
  await client.connect({ timeoutMs: 20_000 });
  tell({ type: 'joined' });
}

/** One client of the drop trials: when it went down, and how it came back. */
interface Tracked {
  readonly transport: Transport;
  readonly client: GatewayClient;
  droppedAt: number;
  backAt: number;
  /** The first backoff wait after the drop, as the chart drew it. */
  waitMs: number;
}

async function drop(gatewayPort: number, k: number): Promise<void> {
  const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: gatewayPort } });
  const tracked: Tracked[] = [];
  for (const transport of ['websocket', 'http'] as const) {
    for (let i = 0; i < k; i++) {
      const t: Tracked = { transport, client: clientFor(proxy.url, transport), droppedAt: Number.NaN, backAt: Number.NaN, waitMs: Number.NaN };
      t.client.onState((state) => {
        if (Number.isNaN(t.droppedAt)) return;
        if (state === 'reconnecting' && Number.isNaN(t.waitMs)) t.waitMs = t.client.info.retryInMs ?? Number.NaN;
        if (state === 'joined' && Number.isNaN(t.backAt)) {
          t.backAt = wallNow();
          if (tracked.every((x) => !Number.isNaN(x.backAt))) report();
        }
      });
      tracked.push(t);
    }
  }
  const report = (): void => {
    const of = (transport: Transport, pick: (t: Tracked) => number): number[] => tracked.filter((t) => t.transport === transport).map(pick);
    tell({
      type: 'rejoined',
      websocket: of('websocket', (t) => t.backAt - t.droppedAt),
      http: of('http', (t) => t.backAt - t.droppedAt),
      websocketWait: of('websocket', (t) => t.waitMs),
      httpWait: of('http', (t) => t.waitMs),
      transports: tracked.map((t) => t.client.info.transport),
    });
  };
  serve(async (msg) => {
    if (msg.type === 'drop') {
      const at = wallNow();
      for (const t of tracked) Object.assign(t, { droppedAt: at, backAt: Number.NaN, waitMs: Number.NaN });
      proxy.drop();
    } else if (msg.type === 'report') {
      // Not all back within the orchestrator's bound: report what there is (NaN for the missing).
      report();
    } else if (msg.type === 'close') {
      await Promise.all(tracked.map((t) => t.client.disconnect()));
      await proxy.close();
      tell({ type: 'closed' });
    }
  });
  await Promise.all(tracked.map((t) => t.client.connect({ timeoutMs: 20_000 })));
  tell({ type: 'joined' });
}

const [mode, ...args] = process.argv.slice(2);
tell({ type: 'ready' });
if (mode === 'live') await live(args[0] ?? '', args[1] === 'http' ? 'http' : 'websocket', Number(args[2] ?? '1'), args[3] ?? 'burst');
else if (mode === 'drop') await drop(Number(args[0] ?? '0'), Number(args[1] ?? '1'));
else throw new Error(`unknown mode ${String(mode)}: live | drop`);
