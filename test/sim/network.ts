// The simulated network: in-memory WebSocket links between client nodes and the gateway, with
// seeded latency, a reader speed (so the gateway sees `bufferedAmount` grow), and the faults a
// real network has: cut (frames in flight lost), reset, half-open stall, refused connects,
// accept-then-drop, slow reader, a connection the server lost while the client never learns, a
// proxy that refuses WebSocket upgrades. The client gets a `WebSocket` class (and a `fetch`, from
// http-network.ts), the gateway a `GatewayTransport`: both are the real seams, so the real code
// runs on top.
import type { Health } from '../../src/protocol/index.js';
import { createHttpBinding, type HttpBinding } from '../../src/server/http/http-binding.js';
import { createLocalFleet, type GatewaySocket, type GatewayTransport, type SocketData, type UpgradeInfo } from '../../src/server/index.js';
import type { WebSocketClass, WebSocketLike } from '../../src/client/types.js';
import type { Rng } from '../chaos/prng.js';
import type { Gate, SimNode, VirtualTime } from './virtual-time.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
/** Bytes the kernel would take before `bufferedAmount` starts to count (a socket send buffer). */
const KERNEL_BUFFER = 16_384;
/** ws destroys a socket whose closing handshake gets no answer after this long. */
const WS_CLOSE_TIMEOUT_MS = 30_000;

/** One client's network path: its faults outlive any one socket. Every fault ends at a set time. */
export class Path implements Gate {
  /** Half-open stall (or partition): nothing moves either way until then. */
  heldUntil = 0;
  /** New connections fail until then. */
  refusedUntil = 0;
  /** Connections are accepted by a middlebox and dropped at once until then. */
  flapUntil = 0;
  /** Connections reach a hostile server until then: it answers with `hostileFrames`, then closes. */
  hostileUntil = 0;
  hostileFrames: readonly string[] = [];
  /** A slow reader until then, at `slowBytesPerMs`. */
  slowUntil = 0;
  slowBytesPerMs = 1;
  /** A latency spike until then, of `spikeMs`. */
  spikeUntil = 0;
  spikeMs = 0;
  /** A proxy on the path refuses WebSocket upgrades until then (HTTP goes through). */
  upgradeBlockedUntil = 0;
  /** POSTs are lost until then: the request (`'request'`), or its answer (`'response'`), and the connection hangs. */
  postLossUntil = 0;
  postLoss: 'request' | 'response' = 'request';
  /** Open links on this path, for cuts. */
  readonly links = new Set<Link<ClientEnd, ServerEnd>>();
  /** Connection attempts made over this path (for the backoff invariant). */
  attempts = 0;

  constructor(
    readonly time: VirtualTime,
    readonly index: number,
    readonly baseLatencyMs: number,
    readonly normalBytesPerMs: number,
    private readonly rng: Rng,
  ) {}

  /** One-way latency of the next frame: the base, a spike, and a little seeded jitter (at least 1 ms). */
  latency(): number {
    return this.baseLatencyMs + (this.time.now < this.spikeUntil ? this.spikeMs : 0) + this.rng.int(0, 2);
  }

  /** Reader speed towards the client, bytes per ms. */
  bytesPerMs(): number {
    return this.time.now < this.slowUntil ? this.slowBytesPerMs : this.normalBytesPerMs;
  }
}

/** Where accepted sockets go: the running gateway, if any, and its HTTP binding. */
export interface Endpoint {
  accept(socket: GatewaySocket, upgrade: UpgradeInfo): void;
  readonly http: HttpBinding;
}

/** The client's end of a link, as the link sees it. */
export interface ClientEnd {
  readonly node: SimNode;
  /** A frame injected on the way (a hostile frame). */
  receive(text: string): void;
  closed(code: number, reason: string): void;
}

/** The gateway's end of a link, as the link sees it. */
export interface ServerEnd {
  closed(code: number): void;
}

/** Both directions of one connection (a WebSocket, or one HTTP request and its answer). */
export class Link<C extends ClientEnd = ClientSocket, S extends ServerEnd = ServerSocket> {
  broken = false;
  /** The gateway lost the connection but the client was never told: nothing moves either way. */
  silent = false;
  /** Last delivery time per direction, so frames never overtake each other. */
  private lastToServer = 0;
  private lastToClient = 0;
  /** When the wire towards the client is free again (reader speed). */
  private txFree = 0;
  /** Frames towards the client still "on the wire": [txEnd, bytes]. */
  private readonly inFlight: Array<[number, number]> = [];
  private inFlightBytes = 0;
  /** Payloads in flight per direction. Each timer delivers the oldest one, so a payload held back
   * by a stall or a sleep can never be overtaken: the link is FIFO like the TCP stream under it. */
  private readonly towardsClient: Array<() => void> = [];
  private readonly towardsServer: Array<() => void> = [];
  server!: S;
  client!: C;

  constructor(
    readonly net: Network,
    readonly path: Path,
  ) {}

  /** Bytes the gateway has written that the reader has not taken yet (beyond the kernel buffer). */
  buffered(): number {
    const now = this.net.time.now;
    while (this.inFlight.length > 0 && (this.inFlight[0] as [number, number])[0] <= now) {
      this.inFlightBytes -= (this.inFlight.shift() as [number, number])[1];
    }
    return Math.max(0, this.inFlightBytes - KERNEL_BUFFER);
  }

  /** Send towards the client; returns when the bytes are on the wire (the writer's callback time). */
  toClient(fn: () => void, bytes = 0): number {
    const now = this.net.time.now;
    const start = Math.max(now, this.txFree);
    const path = this.path;
    // A slow reader takes bytes at its pace until the fault ends, then at the normal pace.
    const slowFor = Math.max(0, path.slowUntil - start);
    const atSlow = bytes / path.bytesPerMs();
    const txEnd = atSlow <= slowFor ? start + atSlow : start + slowFor + (bytes - slowFor * path.slowBytesPerMs) / path.normalBytesPerMs;
    this.txFree = txEnd;
    if (bytes > 0) {
      this.inFlight.push([txEnd, bytes]);
      this.inFlightBytes += bytes;
    }
    const at = Math.max(Math.ceil(txEnd) + this.path.latency(), this.lastToClient);
    this.lastToClient = at;
    this.towardsClient.push(fn);
    this.net.time.schedule(() => this.deliver(this.towardsClient), at - now, this.client.node, this.path);
    return txEnd;
  }

  private deliver(queue: Array<() => void>): void {
    const fn = queue.shift();
    if (fn !== undefined && !this.broken && !this.silent) fn();
  }

  toServer(fn: () => void): void {
    const now = this.net.time.now;
    const at = Math.max(now + this.path.latency(), this.lastToServer);
    this.lastToServer = at;
    this.towardsServer.push(fn);
    this.net.time.schedule(() => this.deliver(this.towardsServer), at - now, this.net.gatewayNode, this.path);
  }

  /** The connection dies under both ends: frames in flight are lost, each end sees 1006. */
  cut(): void {
    if (this.broken) return;
    this.broken = true;
    this.path.links.delete(this);
    const latency = this.path.latency();
    this.net.time.schedule(() => this.client.closed(1006, ''), latency, this.client.node);
    this.net.time.schedule(() => this.server.closed(1006), latency, this.net.gatewayNode);
  }

  /**
   * The gateway's side of the connection dies (a proxy between lost it, an idle timeout) while
   * the client's side stays open and is never told: what it sends is lost, and nothing comes.
   */
  halfDead(): void {
    if (this.broken || this.silent) return;
    this.silent = true;
    this.net.time.schedule(() => this.server.closed(1006), 0, this.net.gatewayNode);
  }

  /** One end is gone (terminate): the other learns after the latency; nothing more is delivered. */
  reset(fromServer: boolean): void {
    if (this.broken) return;
    this.broken = true;
    this.path.links.delete(this);
    const latency = this.path.latency();
    if (fromServer) {
      this.net.time.schedule(() => this.server.closed(1006), 0, this.net.gatewayNode);
      this.net.time.schedule(() => this.client.closed(1006, ''), latency, this.client.node);
    } else {
      this.net.time.schedule(() => this.client.closed(1006, ''), 0, this.client.node);
      this.net.time.schedule(() => this.server.closed(1006), latency, this.net.gatewayNode);
    }
  }
}

type ServerListener = ((data: SocketData, isBinary: boolean) => void) | ((error: Error) => void) | ((code: number) => void);

/** The gateway's end of a link: a `GatewaySocket`. */
export class ServerSocket implements GatewaySocket {
  readyState = OPEN;
  private onMessage: (data: SocketData, isBinary: boolean) => void = () => undefined;
  private onClose: (code: number) => void = () => undefined;
  constructor(private readonly link: Link) {}

  get bufferedAmount(): number {
    return this.link.buffered();
  }

  on(event: 'message' | 'error' | 'close', listener: ServerListener): this {
    if (event === 'message') this.onMessage = listener as (data: SocketData, isBinary: boolean) => void;
    else if (event === 'close') this.onClose = listener as (code: number) => void;
    return this;
  }

  send(text: string, onWritten?: (error?: Error) => void): void {
    if (this.readyState !== OPEN) return;
    const link = this.link;
    const written = link.toClient(() => link.client.receive(text), text.length);
    if (onWritten) link.net.time.schedule(() => onWritten(), Math.ceil(written) - link.net.time.now, link.net.gatewayNode, link.path);
    link.net.hooks.sent?.(link.buffered(), text.length);
  }

  close(code: number, reason: string): void {
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    const link = this.link;
    link.toClient(() => link.client.peerClosed(code, reason));
    // ws gives a silent peer 30 s to answer the close, then destroys the socket.
    link.net.time.schedule(() => this.closed(1006), WS_CLOSE_TIMEOUT_MS, link.net.gatewayNode);
  }

  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSING;
    this.link.reset(true);
  }

  /** Frames read while paused wait here, in order (TCP backpressure holds them in the kernel). */
  private held: string[] | null = null;

  pause(): void {
    this.held ??= [];
  }

  resume(): void {
    const held = this.held;
    this.held = null;
    const net = this.link.net;
    for (const text of held ?? []) net.time.schedule(() => this.receive(text), 0, net.gatewayNode);
  }

  /** A frame from the client. */
  receive(text: string): void {
    if (this.held !== null) this.held.push(text);
    else if (this.readyState === OPEN) this.onMessage(text, false);
  }

  /** The client started the closing handshake: answer it and close. */
  peerClosed(code: number): void {
    if (this.readyState === CLOSED) return;
    const link = this.link;
    link.toClient(() => link.client.closed(code, ''));
    link.path.links.delete(link);
    this.closed(code);
  }

  /** The socket is closed; fires `close` once. */
  closed(code: number): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.link.path.links.delete(this.link);
    this.onClose(code);
  }
}

/** The client's end of a link: what `new WebSocket(url)` returns inside the simulation. */
export class ClientSocket implements WebSocketLike {
  readyState = CONNECTING;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  link: Link | null = null;

  constructor(
    readonly net: Network,
    readonly path: Path,
    readonly node: SimNode,
    url: string,
  ) {
    path.attempts++;
    net.hooks.connect?.(path);
    const latency = path.latency();
    net.time.schedule(() => net.connect(this, url), latency, net.gatewayNode, path);
  }

  send(data: string): void {
    if (this.readyState !== OPEN || this.link === null) return;
    const link = this.link;
    link.toServer(() => link.server.receive(data));
  }

  close(code = 1000, _reason = ''): void {
    if (this.readyState === CLOSED || this.readyState === CLOSING) return;
    if (this.readyState === CONNECTING || this.link === null) {
      // Closed before it opened: ws reports 1006.
      this.readyState = CLOSING;
      if (this.link) this.link.reset(false);
      else this.net.time.schedule(() => this.closed(1006, ''), 0, this.node);
      return;
    }
    this.readyState = CLOSING;
    const link = this.link;
    link.toServer(() => link.server.peerClosed(code));
  }

  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSING;
    if (this.link) this.link.reset(false);
    else this.net.time.schedule(() => this.closed(1006, ''), 0, this.node);
  }

  opened(link: Link): void {
    // Given up before the open arrived: the TCP connection is torn down, and the gateway sees it.
    if (this.readyState !== CONNECTING) return link.reset(false);
    this.link = link;
    this.readyState = OPEN;
    this.onopen?.({});
  }

  receive(text: string): void {
    if (this.readyState === OPEN) this.onmessage?.({ data: text });
  }

  /** The gateway started the closing handshake. */
  peerClosed(code: number, reason: string): void {
    if (this.readyState === CLOSED || this.link === null) return;
    const link = this.link;
    if (this.readyState === OPEN) link.toServer(() => link.server.closed(code));
    this.closed(code, reason);
  }

  closed(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    if (code === 1006) this.onerror?.({});
    this.onclose?.({ code, reason });
  }
}

/** Observation hooks for the world (bounds, traces, hostile frames). */
export interface NetworkHooks {
  connect?(path: Path): void;
  /** The gateway sent `bytes`; its socket now holds `buffered` unsent bytes. */
  sent?(buffered: number, bytes: number): void;
}

/** What crossed the network over HTTP (http-network.ts counts it): the sim test checks each fault happened. */
export interface HttpCounts {
  streams: number;
  posts: number;
  /** Answers the gateway's HTTP binding wrote, by status. */
  readonly statuses: Record<number, number>;
  lostRequests: number;
  lostAnswers: number;
  /** Requests the client gave up on (its deadline, or its connection ended). */
  aborted: number;
}

/** Every path, and the gateway endpoint they reach. */
export class Network {
  endpoint: Endpoint | null = null;
  readonly hooks: NetworkHooks = {};
  readonly httpCounts: HttpCounts = { streams: 0, posts: 0, statuses: {}, lostRequests: 0, lostAnswers: 0, aborted: 0 };

  constructor(
    readonly time: VirtualTime,
    readonly gatewayNode: SimNode,
  ) {}

  /** A `WebSocket` class for one client node on one path. */
  webSocketClass(path: Path, node: SimNode): WebSocketClass {
    const net = this;
    return class SimWebSocket extends ClientSocket {
      constructor(url: string) {
        super(net, path, node, url);
      }
    };
  }

  /** The connect attempt reaches the far side of the path. */
  connect(socket: ClientSocket, url: string): void {
    const path = socket.path;
    const now = this.time.now;
    const endpoint = this.endpoint;
    if (socket.readyState !== CONNECTING) return;
    const refuse = (): void => void this.time.schedule(() => socket.closed(1006, ''), path.latency(), socket.node);
    // A proxy that does not pass Upgrade answers with an HTTP status: the socket closes before it opened.
    if (path.refusedUntil > now || endpoint === null || path.upgradeBlockedUntil > now) return refuse();
    const link = new Link(this, path);
    link.client = socket;
    link.server = new ServerSocket(link);
    path.links.add(link);
    if (path.hostileUntil > now) {
      // A hostile server: it accepts, answers the hello with frames from the fuzz catalogue, and closes.
      link.toClient(() => socket.opened(link));
      for (const text of path.hostileFrames) link.toClient(() => socket.receive(text), text.length);
      link.toClient(() => socket.peerClosed(1011, 'hostile server'));
      path.links.delete(link);
      return;
    }
    if (path.flapUntil > now) {
      // A middlebox accepts the WebSocket and drops it straight away.
      link.toClient(() => socket.opened(link));
      link.toClient(() => socket.peerClosed(1011, 'upstream unavailable'));
      path.links.delete(link);
      return;
    }
    // The open travels first, so frames the gateway sends at once (a refusal) follow it.
    link.toClient(() => socket.opened(link));
    endpoint.accept(link.server, { remoteAddress: `10.0.0.${path.index + 1}`, origin: undefined, url });
  }

  /**
   * The gateway's transport: it listens by becoming the endpoint, with the real HTTP binding on
   * the same "port" (a fresh one per listen, so a restarted gateway knows no old connection id).
   */
  transport(): GatewayTransport {
    let accept: Endpoint | null = null;
    return {
      listen: (onSocket: (socket: GatewaySocket, upgrade: UpgradeInfo) => void, _health: () => Health) => {
        accept = { accept: onSocket, http: createHttpBinding({ nodeId: 'sim', allowedOrigins: undefined, maxPayload: 1 << 20, relay: createLocalFleet().relay, counters: { postsRelayed: 0 } }, onSocket) };
        this.endpoint = accept;
        return Promise.resolve({ url: 'ws://gateway.sim', port: 0 });
      },
      close: () => {
        if (this.endpoint === accept) this.endpoint = null;
        return Promise.resolve();
      },
    };
  }
}
