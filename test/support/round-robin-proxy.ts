// A round-robin HTTP load balancer for tests, as nginx's `upstream` block with several servers and
// no stickiness: each request goes to the next upstream in turn, streamed both ways (an SSE
// response passes each chunk at once). A request whose upstream refuses the connection goes to
// the next one, as nginx's `proxy_next_upstream error` does (nothing of it was sent yet); one
// whose upstream fails later is cut, as through nginx. It
// passes no Upgrade, so a WebSocket cannot cross it. Records where each request went.
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the balancer passed it on. */
export interface RoutedRequest {
  readonly method: string;
  /** The upstream port that answered it; undefined when none could be reached (answered 502). */
  readonly upstream: number | undefined;
}

/** A running balancer. */
export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly routed: readonly RoutedRequest[];
  close(): Promise<void>;
}

// Hop-by-hop headers (RFC 9110 section 7.6.1) stay with their hop, and Upgrade is not passed.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

/** Start a balancer on 127.0.0.1 (a free port) over the upstreams on these 127.0.0.1 ports. */
export async function startRoundRobinProxy(upstreams: readonly number[]): Promise<RoundRobinProxy> {
  let next = 0;
  const routed: RoutedRequest[] = [];
  const sockets = new Set<Socket>();

  /** Pass `req` to the upstream after `start` + `tries` (each request starts at the next in turn). */
  const pass = (req: IncomingMessage, res: ServerResponse, body: Buffer, start: number, tries: number): void => {
    if (tries === upstreams.length) {
      routed.push({ method: req.method ?? '', upstream: undefined });
      res.writeHead(502, { 'content-type': 'text/plain' }).end('no upstream answered\n');
      return;
    }
    const port = upstreams[(start + tries) % upstreams.length]!;
    const upstream = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: endToEnd(req.headers) }, (answer) => {
      routed.push({ method: req.method ?? '', upstream: port });
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      res.flushHeaders();
      answer.on('data', (chunk: Buffer) => res.write(chunk));
      answer.on('end', () => res.end());
      // An upstream that dies mid-response: the client sees its response cut, as through nginx.
      answer.on('error', () => res.destroy());
      answer.on('aborted', () => res.destroy());
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      // Only a refused connection goes to the next upstream: a request that reached one may have
      // been handled there, and nginx does not send a POST twice either.
      if (error.code === 'ECONNREFUSED' && !res.headersSent) pass(req, res, body, start, tries + 1);
      else res.destroy();
    });
    // The client went away: so does its upstream request (a dropped stream reaches the gateway).
    res.on('close', () => upstream.destroy());
    upstream.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => pass(req, res, Buffer.concat(chunks), next++, 0));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routed,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
