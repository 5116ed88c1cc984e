// The production transport: an HTTP server that answers `/health` and upgrades everything else
// to a `ws` WebSocket. The gateway sees only the `GatewayTransport` seam (transport.ts).
import { createServer, type Server } from 'node:http';
import { WebSocketServer } from 'ws';
import type { Health } from '../protocol/index.js';
import { listenOn } from './listen.js';
import type { GatewayTransport } from './transport.js';

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
}

/**
 * The HTTP status of `GET /health`: 503 while `degraded` (the event store does not answer, so
 * joins and publishes are refused), so that a load balancer stops routing new clients here.
 */
export function healthStatusCode(health: Health): number {
  return health.status === 'degraded' ? 503 : 200;
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
        res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket upgrade required.\n');
      });
      wss = new WebSocketServer({ server, maxPayload: options.maxFrameBytes, clientTracking: false });
      wss.on('connection', (ws, request) => {
        const forwardedFor = request.headers['x-forwarded-for'];
        accept(ws, { remoteAddress: request.socket.remoteAddress, origin: request.headers.origin, url: request.url, forwardedFor: Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor });
      });
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
