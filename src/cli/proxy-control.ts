// The network switch behind `agent-lifeline proxy`: the fault proxy's faults as four named actions
// (drop, stall, refuse, pass), and a small local HTTP endpoint that triggers them, so a script
// (or README's reader, with curl) can cut the network between a client and a gateway. Every
// request needs this run's key (control-guard.ts): `?key=`, `X-Lifeline-Control` or a bearer token.
//   GET  /          {mode, connections, target}
//   POST /drop      reset every connection now; new ones go through
//   POST /stall     keep connections open but forward nothing (a half-open link)
//   POST /refuse    reset every connection and refuse new ones (the gateway is unreachable)
//   POST /pass      forward normally again (undoes stall and refuse)
import { createServer, type Server } from 'node:http';
import { createControlGuard, sendRefusal } from '../../stories/support/control-guard.js';
import type { FaultProxy } from '../testing/index.js';
import { listenOn } from '../server/listen.js';

/** What the link does with traffic now. */
export type NetworkMode = 'pass' | 'stall' | 'refuse';

/** An action a keypress or the endpoint can take. */
export type NetworkAction = 'drop' | NetworkMode;

/** The proxy's state, as the endpoint reports it. */
export interface NetworkStatus {
  readonly mode: NetworkMode;
  readonly connections: number;
  readonly target: string;
}

/** The four actions over one fault proxy. */
export interface NetworkSwitch {
  apply(action: NetworkAction): NetworkStatus;
  status(): NetworkStatus;
}

/** Map the actions onto `proxy`'s faults. */
export function createNetworkSwitch(proxy: FaultProxy, target: string): NetworkSwitch {
  let mode: NetworkMode = 'pass';
  const status = (): NetworkStatus => ({ mode, connections: proxy.connections, target });
  return {
    status,
    apply(action) {
      switch (action) {
        case 'drop':
          proxy.drop();
          break;
        case 'stall':
          proxy.refuse(false);
          proxy.stall();
          mode = 'stall';
          break;
        case 'refuse':
          proxy.resume();
          proxy.refuse(true);
          proxy.drop();
          mode = 'refuse';
          break;
        case 'pass':
          proxy.pass();
          mode = 'pass';
          break;
      }
      return status();
    },
  };
}

const ACTIONS: ReadonlySet<string> = new Set<NetworkAction>(['drop', 'stall', 'refuse', 'pass']);

/** A running control endpoint. */
export interface ControlEndpoint {
  /** `http://host:port`, without the key. */
  readonly url: string;
  /** This run's key, which every request must carry. */
  readonly key: string;
  close(): Promise<void>;
}

/**
 * Serve the switch on `host:port` (0 picks a free port). `onAction` hears every action taken
 * through it. Rejects with `address_in_use` or `address_unavailable` when it cannot listen.
 */
export async function serveNetworkSwitch(
  network: NetworkSwitch,
  host: string,
  port: number,
  onAction: (action: NetworkAction, status: NetworkStatus) => void,
): Promise<ControlEndpoint> {
  let bound = port;
  const guard = createControlGuard({ host, port: () => bound });
  const server: Server = createServer((req, res) => {
    const refused = guard.refuseControl(req);
    if (refused) return sendRefusal(res, refused);
    const action = (req.url ?? '/').split('?')[0]?.slice(1) ?? '';
    const reply = (code: number, body: unknown): void => void res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(`${JSON.stringify(body)}\n`);
    if (req.method === 'GET' && action === '') return reply(200, network.status());
    if (req.method === 'POST' && ACTIONS.has(action)) {
      const status = network.apply(action as NetworkAction);
      onAction(action as NetworkAction, status);
      return reply(200, status);
    }
    reply(404, { error: `no route ${req.method ?? ''} ${req.url ?? ''}`, nextStep: 'POST /drop, /stall, /refuse or /pass; GET / for the status' });
  });
  bound = await listenOn(server, host, port, () => undefined);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    key: guard.key,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
