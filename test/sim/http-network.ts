// HTTP on the simulated network: a `fetch` for each client node, whose requests travel over the
// same paths (latency, stalls, cuts, resets, refusals, slow readers) to the gateway's real HTTP
// binding (src/server/http/), which answers through a simulated request and response. So the
// client's real HTTP transport (SSE read from a fetch body, POSTs up) and the gateway's real
// binding (streams, connection ids, POST routing, the close event) run on virtual time. Each
// request is its own link: a stream lives as long as its response; a POST ends with its answer.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Link, type ClientEnd, type Network, type Path, type ServerEnd } from './network.js';
import type { SimNode } from './virtual-time.js';

const encoder = new TextEncoder();

/** A Node-style error with a `code`, as undici puts under "fetch failed". */
function networkError(code: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
}

/** The client's end of one request: resolves the fetch with the head, then feeds the body. */
class FetchEnd implements ClientEnd {
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private state: 'waiting' | 'body' | 'done' = 'waiting';

  constructor(
    readonly node: SimNode,
    private readonly resolve: (response: Response) => void,
    private readonly reject: (error: unknown) => void,
    private readonly finished: () => void,
  ) {}

  /** The response head arrived: the fetch resolves (a 204 has no body). */
  head(status: number, headers: Record<string, string>): void {
    if (this.state !== 'waiting') return;
    if (status === 204) {
      this.state = 'done';
      this.finished();
      return this.resolve(new Response(null, { status, headers }));
    }
    this.state = 'body';
    const body = new ReadableStream<Uint8Array>({ start: (controller) => void (this.controller = controller) });
    this.resolve(new Response(body, { status, headers }));
  }

  chunk(text: string): void {
    if (this.state === 'body') this.controller?.enqueue(encoder.encode(text));
  }

  /** A frame injected on the way: one more SSE message. */
  receive(text: string): void {
    this.chunk(`data: ${text}\n\n`);
  }

  end(): void {
    if (this.state !== 'body') return;
    this.state = 'done';
    this.finished();
    this.controller?.close();
  }

  /** The connection died (or the client gave up on it): a pending fetch rejects, a body errors. */
  closed(_code: number, _reason: string, error: unknown = networkError('ECONNRESET')): void {
    if (this.state === 'waiting') this.reject(error);
    else if (this.state === 'body') this.controller?.error(error instanceof TypeError ? new TypeError('terminated', { cause: error }) : error);
    if (this.state !== 'done') this.finished();
    this.state = 'done';
  }
}

/**
 * The gateway's end of one request: what the HTTP binding writes to (`ServerResponse`'s members
 * that it uses), sent down the link to the client. Lost answers (a POST-loss fault) go nowhere.
 */
class SimResponse extends EventEmitter implements ServerEnd {
  headersSent = false;
  destroyed = false;
  private ended = false;
  private readonly extra: Record<string, string> = {};

  constructor(
    private readonly link: Link<FetchEnd, SimResponse>,
    private readonly lost: boolean,
  ) {
    super();
  }

  get writableLength(): number {
    return this.link.buffered();
  }

  get socket(): { readonly writable: boolean; uncork(): void; setKeepAlive(): void } {
    const writable = !this.destroyed && !this.ended && !this.link.broken;
    return { writable, uncork: () => undefined, setKeepAlive: () => undefined };
  }

  setHeader(name: string, value: string): void {
    this.extra[name.toLowerCase()] = value;
  }

  private toClient(fn: (end: FetchEnd) => void, bytes = 0): number {
    const link = this.link;
    return this.lost ? link.net.time.now : link.toClient(() => fn(link.client), bytes);
  }

  writeHead(status: number, headers: Record<string, string> = {}): this {
    if (this.headersSent || this.destroyed) return this;
    this.headersSent = true;
    const counts = this.link.net.httpCounts.statuses;
    counts[status] = (counts[status] ?? 0) + 1;
    const all = { ...this.extra, ...headers };
    this.toClient((end) => end.head(status, all));
    return this;
  }

  write(chunk: string, onWritten?: (error?: Error | null) => void): boolean {
    const net = this.link.net;
    if (this.destroyed || this.ended) {
      if (onWritten) net.time.schedule(() => onWritten(new Error('write after end')), 0, net.gatewayNode);
      return false;
    }
    if (!this.headersSent) this.writeHead(200);
    const written = this.toClient((end) => end.chunk(chunk), chunk.length);
    net.hooks.sent?.(this.link.buffered(), chunk.length);
    if (onWritten) net.time.schedule(() => onWritten(), Math.ceil(written) - net.time.now, net.gatewayNode, this.link.path);
    return true;
  }

  /** The last chunk (a refusal's body, the close event): like a WebSocket's close frame, not counted as a sent frame. */
  end(chunk?: string): this {
    if (this.ended || this.destroyed) return this;
    if (!this.headersSent) this.writeHead(200);
    if (chunk !== undefined) this.toClient((end) => end.chunk(chunk), chunk.length);
    this.ended = true;
    const link = this.link;
    const done = this.toClient((end) => end.end());
    // The response is finished once its last bytes are written: Node then emits 'close'.
    link.net.time.schedule(
      () => {
        link.path.links.delete(link);
        this.closed();
      },
      Math.ceil(done) - link.net.time.now,
      link.net.gatewayNode,
    );
    return this;
  }

  destroy(): this {
    if (!this.destroyed) this.link.reset(true);
    return this;
  }

  /** The connection under it closed: 'close', once. */
  closed(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}

/** What the HTTP binding reads of a request (`IncomingMessage`'s members that it uses). */
class SimRequest extends EventEmitter {
  readonly socket: { readonly remoteAddress: string; setKeepAlive(): void };
  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: Record<string, string>,
    remoteAddress: string,
  ) {
    super();
    this.socket = { remoteAddress, setKeepAlive: () => undefined };
  }
  pause(): this {
    return this;
  }
}

/** Request headers as Node presents them: lower-case names, string values. */
function headersOf(init: RequestInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init?.headers).forEach((value, name) => (out[name] = value));
  return out;
}

/**
 * The `fetch` of one client node on one path. A stream request (`Accept: text/event-stream`)
 * counts as a connection attempt, as a WebSocket does; POSTs do not.
 */
export function simFetch(net: Network, path: Path, node: SimNode): typeof fetch {
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const method = init?.method ?? 'GET';
      const headers = headersOf(init);
      const body = typeof init?.body === 'string' ? init.body : '';
      const signal = init?.signal ?? undefined;
      const abort = (): void => {
        net.httpCounts.aborted++;
        end.closed(1006, '', new DOMException('This operation was aborted', 'AbortError'));
        if (path.links.has(link)) link.reset(false);
      };
      // The listener goes with the exchange, as undici's does: the transport's one signal serves every request of a connection.
      const end = new FetchEnd(node, resolve, reject, () => signal?.removeEventListener('abort', abort));
      const link = new Link<FetchEnd, SimResponse>(net, path);
      link.client = end;
      const isStream = method === 'GET' && (headers['accept'] ?? '').includes('text/event-stream');
      const lost = method === 'POST' && path.postLossUntil > net.time.now ? path.postLoss : undefined;
      link.server = new SimResponse(link, lost === 'response');
      signal?.addEventListener('abort', abort);
      if (isStream) {
        net.httpCounts.streams++;
        path.attempts++;
        net.hooks.connect?.(path);
      } else net.httpCounts.posts++;
      if (lost === 'request') net.httpCounts.lostRequests++;
      else if (lost === 'response') net.httpCounts.lostAnswers++;
      path.links.add(link);
      link.toServer(() => {
        const endpoint = net.endpoint;
        if (path.refusedUntil > net.time.now || endpoint === null) {
          path.links.delete(link);
          net.time.schedule(() => end.closed(1006, '', networkError('ECONNREFUSED')), path.latency(), node);
          return;
        }
        // A lost request never arrives: the connection just hangs until the client gives up.
        if (lost === 'request') return;
        if (isStream && path.hostileUntil > net.time.now) {
          // A hostile server (not the gateway): a stream of frames from the fuzz catalogue, then the end.
          link.toClient(() => end.head(200, { 'content-type': 'text/event-stream', 'lifeline-connection': 'hostile.x' }));
          for (const text of path.hostileFrames) link.toClient(() => end.receive(text), text.length);
          link.toClient(() => end.end());
          path.links.delete(link);
          return;
        }
        if (isStream && path.flapUntil > net.time.now) return link.cut();
        const req = new SimRequest(method, `${url.pathname}${url.search}`, headers, `10.0.0.${path.index + 1}`);
        // The binding reads these members only (see SimRequest and SimResponse): the sim stands in for node:http.
        const handled = endpoint.http.handle(req as unknown as IncomingMessage, link.server as unknown as ServerResponse);
        if (!handled) link.server.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket upgrade required\n');
        // The body follows the head at once: the binding has attached its readers synchronously.
        if (body !== '') req.emit('data', Buffer.from(body, 'utf8'));
        req.emit('end');
      });
    });
}
