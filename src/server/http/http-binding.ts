// The HTTP binding (PROTOCOL.md section 9) on the gateway's HTTP server: tells its requests apart
// by method and headers, so one path (and one proxy location) serves them and the WebSocket:
//   GET  <path>?hello=…  with Accept: text/event-stream   a stream, its hello in the query
//   GET  …/sessions/<id>/events?agent=…                   a stream for a plain EventSource
//   POST <path>?connection=<id>                           frames up, one per line
//   OPTIONS                                               a CORS preflight
// Each stream is a GatewaySocket handed to the same `accept` as a WebSocket, so the handshake,
// sessions, resume, limits and errors are the gateway's one implementation. A POST for a stream
// that another node of the fleet holds goes there through the fleet's relay (post-frames.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONNECTION_HEADER } from '../../protocol/sse.js';
import type { ConnectionRelay, DeliveryOutcome, RelayedFrames } from '../fleet.js';
import type { GatewaySocket, UpgradeInfo } from '../transport.js';
import { bearerToken, upgradeInfo } from '../upgrade-info.js';
import { createConnectionDirectory, type ConnectionDirectory } from './connection-directory.js';
import { answerPreflight, corsFor, corsHeaders } from './cors.js';
import { deliverRelayed, handlePost, type HttpConnection, type PostRoutes } from './post-frames.js';
import { createSseSocket } from './sse-socket.js';
import { isPlainStreamPath, streamHello } from './stream-hello.js';

/** The reconnect delay a stream asks a browser's EventSource for (`retry:`), in ms. */
export const SSE_RETRY_MS = 1000;
/** Frames of `policy.max_payload` one POST body may hold at most. */
export const MAX_POST_FRAMES = 64;
/** Idle time before TCP keepalive probes a stream's connection (the kernel then gives up in about a minute more). */
const STREAM_KEEPALIVE_MS = 30_000;

/** Options for {@link createHttpBinding}. */
export interface HttpBindingOptions {
  /** This node's id, the first part of every connection id. */
  readonly nodeId: string;
  /** Origins that may use the binding from a browser; undefined: any. */
  readonly allowedOrigins: ReadonlySet<string> | undefined;
  /** `policy.max_payload`: the largest frame a POST line may hold. */
  readonly maxPayload: number;
  /** The fleet's relay: POSTs for another node's streams are forwarded through it. */
  readonly relay: ConnectionRelay;
  /** The gateway's counters (`stats().counters`): each forward through the relay adds one. */
  readonly counters: { postsRelayed: number };
}

/** The binding on one HTTP server. */
export interface HttpBinding {
  /** Serve the request if it is the binding's; false leaves it to the caller. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** The streams open now, by connection id. */
  readonly connections: ConnectionDirectory<HttpConnection>;
  /**
   * Hand frames that another node received to one of this node's streams: what this node's
   * `relay.serve` delivers. Bound, so it can be passed as it is.
   */
  readonly deliver: (frames: RelayedFrames) => DeliveryOutcome;
}

function wantsEventStream(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/event-stream');
}

/** A refusal before any stream: the `hello_error` a WebSocket would get, as a JSON body. */
function refuseBadRequest(res: ServerResponse, headers: Readonly<Record<string, string>>, message: string): void {
  const body = JSON.stringify({ type: 'hello_error', code: 'bad_frame', message, next_step: 'do_not_retry' });
  res.writeHead(400, { ...headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(body);
}

/** Serve the binding's requests, handing each stream to `accept`. */
export function createHttpBinding(options: HttpBindingOptions, accept: (socket: GatewaySocket, upgrade: UpgradeInfo) => void): HttpBinding {
  const connections = createConnectionDirectory<HttpConnection>(options.nodeId);
  const postLimits = { maxPayload: options.maxPayload, maxBodyBytes: options.maxPayload * MAX_POST_FRAMES };
  const routes: PostRoutes = {
    node: options.nodeId,
    find: (id) => connections.find(id),
    forward: (node, frames) => {
      options.counters.postsRelayed++;
      return options.relay.forward(node, frames);
    },
  };

  const openStream = (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    const cors = corsFor(req, options.allowedOrigins);
    const lastEventId = req.headers['last-event-id'];
    const hello = streamHello(url, Array.isArray(lastEventId) ? lastEventId[0] : lastEventId, bearerToken(req));
    if (!hello.ok) return refuseBadRequest(res, corsHeaders(cors), hello.message);
    const socket = createSseSocket(res, { retryMs: SSE_RETRY_MS, headers: corsHeaders(cors) });
    const id = connections.add({ socket, token: hello.token, reading: false });
    socket.on('close', () => connections.remove(id));
    req.socket.setKeepAlive(true, STREAM_KEEPALIVE_MS);
    accept(socket, upgradeInfo(req, 'http', hello.url));
    if (!socket.start({ [CONNECTION_HEADER]: id })) return;
    if (hello.text !== undefined) socket.receive(hello.text);
  };

  return {
    connections,
    deliver: (frames) => deliverRelayed(connections.find(frames.connection), frames),
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://gateway.invalid');
      switch (req.method) {
        case 'OPTIONS':
          answerPreflight(res, corsFor(req, options.allowedOrigins));
          return true;
        case 'POST':
          handlePost(req, res, url, corsFor(req, options.allowedOrigins), routes, postLimits).catch(() => res.destroy());
          return true;
        case 'GET':
          if (!wantsEventStream(req) && !isPlainStreamPath(url.pathname)) return false;
          openStream(req, res, url);
          return true;
        default:
          return false;
      }
    },
  };
}
