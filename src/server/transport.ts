// The gateway's transport seam: what a connection needs from a socket, and how sockets arrive.
// Production uses `ws` behind an HTTP server (ws-transport.ts), which also serves the HTTP binding
// (SSE down, POST up: http/) with the same sockets; the deterministic simulation (test/sim/) plugs
// in in-memory links, so the same gateway code runs on a virtual network.
import type { Health } from '../protocol/index.js';

/** `readyState` of an open socket (the WebSocket constant). */
export const SOCKET_OPEN = 1;

/** A frame as a socket hands it over: text, or the raw bytes `ws` reads. */
export type SocketData = string | Buffer | ArrayBuffer | Buffer[];

/**
 * The subset of a `ws` WebSocket the gateway uses. A `ws` socket fits as is; any other transport
 * implements these few members with the same meaning.
 */
export interface GatewaySocket {
  /** 1 (the WebSocket `OPEN` constant) while frames may be sent; anything else once it is closing or closed. */
  readonly readyState: number;
  /** Bytes accepted by `send` and not yet written out: the slow-consumer signal. */
  readonly bufferedAmount: number;
  /**
   * Queue a text frame. `onWritten` runs once the frame has left `bufferedAmount` (written out, or
   * dropped because the socket closed): a paced replay resumes on it, so a transport must call it.
   */
  send(text: string, onWritten?: (error?: Error) => void): void;
  /** Stop reading from the peer (TCP backpressure) until `resume()`; frames already read may still arrive. */
  pause(): void;
  /** Read from the peer again after `pause()`. */
  resume(): void;
  /** Graceful close: the close frame follows any buffered data. */
  close(code: number, reason: string): void;
  /** Destroy the connection without a close frame. */
  terminate(): void;
  on(event: 'message', listener: (data: SocketData, isBinary: boolean) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Fires once, when the socket has closed (cleanly or not). */
  on(event: 'close', listener: (code: number) => void): unknown;
}

/** What the gateway learns about a connection before its first frame. */
export interface UpgradeInfo {
  /** The peer's address, for rate limits and logs. @default 'unknown' */
  readonly remoteAddress: string | undefined;
  /** The `Origin` header, sent by browsers. */
  readonly origin: string | undefined;
  /** The request URL (path and query), which may carry `?token=`. */
  readonly url: string | undefined;
  /** The `X-Forwarded-For` header, believed only from `trustedProxies`. */
  readonly forwardedFor?: string | undefined;
  /**
   * A credential the request carried outside the URL (`Authorization: Bearer <token>`). The
   * handshake takes `hello.token` first, then this, then `?token=`.
   */
  readonly token?: string | undefined;
  /**
   * How frames travel. `http` (SSE down, POST up: PROTOCOL.md section 9) has no way to send a
   * pong but a POST, so such a connection is pinged and never closed for silence: a dead stream
   * shows as a write error or a close. @default 'websocket'
   */
  readonly transport?: 'websocket' | 'http' | undefined;
}

/** Where a gateway's connections come from. */
export interface GatewayTransport {
  /**
   * Start accepting. Every new socket goes to `accept`; `health` answers plain HTTP health checks
   * and `metrics` Prometheus scrapes (`GET /metrics`) where the transport has them. Resolves to the URL clients connect to, and the port.
   * Rejects with a GatewayError (`address_in_use`, `address_unavailable`) when it cannot listen.
   */
  listen(
    accept: (socket: GatewaySocket, upgrade: UpgradeInfo) => void,
    health: () => Health,
    metrics?: () => Promise<{ readonly contentType: string; readonly body: string }>,
  ): Promise<{ readonly url: string; readonly port: number }>;
  /** Stop accepting and release what `listen` took. Open sockets are the gateway's to close. */
  close(): Promise<void>;
}
