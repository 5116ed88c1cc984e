// The production transport: an HTTP server that answers `/health` and `/metrics`, serves the HTTP
// binding (SSE down, POST up: http/), and upgrades everything else to a `ws` WebSocket. The
// gateway sees only the `GatewayTransport` seam (transport.ts), whichever way a client came.
import { createServer, type Server } from 'node:http';
import { WebSocketServer } from 'ws';
import type { Health } from '../protocol/index.js';
import type { HttpBinding } from './http/http-binding.js';
import { listenOn } from './listen.js';
import type { GatewayTransport } from './transport.js';
import { upgradeInfo } from './upgrade-info.js';

/** Options for {@link createWsTransport}. */
export interface WsTransportOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Also bounds the HTTP upgrade (headers and request timeouts). */
  readonly handshakeTimeoutMs: number;
  /** Frames over this many bytes close the socket with 1009 (ws's hard limit). */
  readonly maxFrameBytes: number;
  /** Server errors after listening (such as EMFILE on accept), which must not crash the process. */
  readonly onError: (error: Error) => void;
  /**
   * Serve the HTTP binding too (PROTOCOL.md section 9): the gateway makes it, since it takes part
   * in the fleet (its POSTs may be for another node's streams). @default undefined: WebSocket only
   */
  readonly http?: Pick<HttpBinding, 'handle'> | undefined;
}

/**
 * The HTTP status of `GET /health`: 503 while `degraded` (the event store does not answer, so
 * joins and publishes are refused) or `draining` (every client here is being sent elsewhere), so
 * that a load balancer stops routing new clients here; 200 when `ok`.
 */
export function healthStatusCode(health: Health): number {
  return health.status === 'ok' ? 200 : 503;
}

/** The `ws` transport the gateway uses by default. */
export function createWsTransport(options: WsTransportOptions): GatewayTransport {
  let server: Server | undefined;
  let wss: WebSocketServer | undefined;
  return {
    async listen(accept, health, metrics) {
      // Bound the HTTP upgrade by the handshake budget too: otherwise a peer that sends half a request
      // holds its socket until Node's 60 s headersTimeout, checked only every 30 s (slowloris).
      const budgetMs = options.handshakeTimeoutMs;
      const serverOptions = {
        headersTimeout: budgetMs,
        requestTimeout: budgetMs,
        connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(budgetMs / 4))),
      };
      const binding = options.http;
      server = createServer(serverOptions, (req, res) => {
        if (req.url === '/health') {
          const report = health();
          res.writeHead(healthStatusCode(report), { 'content-type': 'application/json' }).end(JSON.stringify(report));
          return;
        }
        if (req.url === '/metrics' && metrics) {
          metrics().then(
            ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
            () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
          );
          return;
        }
        if (binding?.handle(req, res)) return;
        const binding426 = binding ? ' or the HTTP binding (GET with Accept: text/event-stream and ?hello=, POST ?connection=)' : '';
        res.writeHead(426, { 'content-type': 'text/plain' }).end(`WebSocket upgrade required${binding426}: this is a Lifeline gateway.\n`);
      });
      wss = new WebSocketServer({ server, maxPayload: options.maxFrameBytes, clientTracking: false });
      wss.on('connection', (ws, request) => accept(ws, upgradeInfo(request, 'websocket')));
      // ws re-emits the HTTP server's errors, and an 'error' nobody listens to crashes the process
      // (a busy port did, past any try/catch). listenOn turns them into a rejection, then onError.
      wss.on('error', () => undefined);
      let port: number;
      try {
        port = await listenOn(server, options.host, options.port, options.onError);
      } catch (error) {
        wss.close();
        throw error;
      }
      const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;
      return { url: `ws://${urlHost}:${port}`, port };
    },
    close() {
      return new Promise((resolve) => {
        wss?.close();
        if (!server) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
