// A reverse proxy that cannot carry WebSockets, as many corporate proxies cannot: it answers every
// upgrade with 502 and passes plain HTTP through to the gateway, streaming both ways (so the HTTP
// binding's event streams and POSTs work through it). node:http only. It records what passes and
// can plant what a proxy or a fleet gets wrong: POSTs routed to a connection the gateway does not
// know (`misroutePosts`: 404 unknown_connection from the gateway itself), and 429s of its own.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** A running proxy. */
export interface BlockingProxy {
  /** `ws://127.0.0.1:PORT`: the URL a client is given (the HTTP transport requests it over http). */
  readonly url: string;
  readonly port: number;
  /** Event-stream GETs passed so far: their `Authorization` header and `hello` query parameter. */
  readonly streams: ReadonlyArray<{ readonly authorization: string | undefined; readonly hello: Record<string, unknown> | null; readonly query: string }>;
  /** The frame types of each POST passed so far. */
  readonly posts: ReadonlyArray<readonly string[]>;
  /** WebSocket upgrades refused so far. */
  readonly refusedUpgrades: number;
  /** WebSocket upgrades passed through to the gateway so far (see `passUpgrades`). */
  readonly passedUpgrades: number;
  /** `ping` frames seen going down event streams so far. */
  readonly pings: number;
  /** The next `count` POSTs name a connection id the gateway never issued. */
  misroutePosts(count: number): void;
  /** Pass WebSocket upgrades through to the gateway from now on (the network got better), or refuse them again. */
  passUpgrades(on: boolean): void;
  /** Answer the next `count` POSTs with 429 and `Retry-After: 0`, as a gateway that is not reading. */
  rateLimitPosts(count: number): void;
  close(): Promise<void>;
}

function framesOf(body: string): string[] {
  return body
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => String((JSON.parse(line) as { type?: unknown }).type));
}

/** A proxy on 127.0.0.1 at a free port in front of the gateway at `targetPort`. */
export async function startBlockingProxy(targetPort: number): Promise<BlockingProxy> {
  const sockets = new Set<Socket>();
  const streams: Array<{ authorization: string | undefined; hello: Record<string, unknown> | null; query: string }> = [];
  const posts: string[][] = [];
  let refusedUpgrades = 0;
  let passedUpgrades = 0;
  let pings = 0;
  let misrouted = 0;
  let passing = false;
  let rateLimited = 0;

  const forward = (req: IncomingMessage, res: ServerResponse, path: string, body: Buffer | null): void => {
    const upstream = request({ host: '127.0.0.1', port: targetPort, method: req.method, path, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      const isStream = String(answer.headers['content-type'] ?? '').startsWith('text/event-stream');
      answer.on('data', (chunk: Buffer) => {
        if (isStream) pings += String(chunk).split('"type":"ping"').length - 1;
        res.write(chunk);
      });
      answer.on('end', () => res.end());
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end('Bad Gateway')));
    res.on('close', () => upstream.destroy());
    upstream.end(body ?? undefined);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (req.method !== 'POST') {
      if ((req.headers.accept ?? '').includes('text/event-stream')) {
        const hello = url.searchParams.get('hello');
        streams.push({ authorization: req.headers.authorization, hello: hello === null ? null : (JSON.parse(hello) as Record<string, unknown>), query: url.search });
      }
      return forward(req, res, req.url ?? '/', null);
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (rateLimited > 0) {
        rateLimited--;
        return void res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' }).end('{"type":"error","code":"rate_limited","message":"not reading","retry_after_seconds":0}');
      }
      const body = Buffer.concat(chunks);
      posts.push(framesOf(String(body)));
      if (misrouted > 0) {
        misrouted--;
        url.searchParams.set('connection', 'elsewhere.AAAAAAAAAAAAAAAAAAAAAA');
      }
      forward(req, res, `${url.pathname}${url.search}`, body);
    });
  });
  // What a proxy that cannot pass WebSockets answers an upgrade with.
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    if (passing) {
      passedUpgrades++;
      // The request as it came, then bytes both ways.
      const upstream = connect(targetPort, '127.0.0.1', () => {
        const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
        upstream.write(head);
        upstream.pipe(socket).pipe(upstream);
      });
      sockets.add(upstream);
      upstream.on('close', () => (sockets.delete(upstream), socket.destroy()));
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
      return;
    }
    refusedUpgrades++;
    socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    streams,
    posts,
    get refusedUpgrades() {
      return refusedUpgrades;
    },
    get passedUpgrades() {
      return passedUpgrades;
    },
    get pings() {
      return pings;
    },
    passUpgrades(on) {
      passing = on;
    },
    misroutePosts(count) {
      misrouted = count;
    },
    rateLimitPosts(count) {
      rateLimited = count;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
