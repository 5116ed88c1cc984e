// The default transport: one WebSocket per connection, from isomorphic-ws (ws in Node, the global
// WebSocket in browsers) or the class given as the `WebSocket` option. The only module of the
// client that touches a WebSocket.
import WebSocket from 'isomorphic-ws';
import { CloseCode, MAX_SERVER_FRAME_BYTES } from '../protocol/index.js';
import { reachedServer } from './connect-failure.js';
import type { ClientTransport, TransportConnection, TransportEvents } from './transport.js';
import type { WebSocketClass, WebSocketLike } from './types.js';

const OPEN = 1;

/** ws's error for an incoming frame over `maxPayload`: it stops reading and closes 1009. */
function isInboundTooBig(event: unknown): boolean {
  const error = (event as { error?: unknown } | null)?.error;
  return error instanceof Error && (error as Error & { code?: unknown }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
}

function closeQuietly(ws: WebSocketLike, hard: boolean): void {
  try {
    if (hard && typeof ws.terminate === 'function') ws.terminate();
    else ws.close(CloseCode.Normal, 'client closing');
  } catch {
    // close() on a socket that never opened throws in some browsers; it is going away anyway.
  }
}

// A class, not a closure per method: one per connection (bench/README.md, memory).
class WebSocketConnection implements TransportConnection {
  constructor(private readonly ws: WebSocketLike) {}

  send(text: string): boolean {
    if (this.ws.readyState !== OPEN) return false;
    this.ws.send(text);
    return true;
  }

  close(): void {
    closeQuietly(this.ws, false);
  }

  terminate(): void {
    closeQuietly(this.ws, true);
  }
}

/**
 * ws's own emitter API (Node), used for the default ws class: the same events as the `on…`
 * properties without an Event object and a wrapper call per frame, and with listeners shared by
 * every socket (they find the socket's events through `this`), so a connection costs no closures.
 */
interface EmitterWebSocket extends WebSocketLike {
  on(event: 'open', listener: (this: EmitterWebSocket) => void): unknown;
  on(event: 'message', listener: (this: EmitterWebSocket, data: { toString(): string }, isBinary: boolean) => void): unknown;
  on(event: 'error', listener: (this: EmitterWebSocket, error: Error) => void): unknown;
  on(event: 'close', listener: (this: EmitterWebSocket, code: number, reason: { toString(): string }) => void): unknown;
}

const EVENTS = Symbol('lifeline.transportEvents');
const HANDSHAKE = Symbol('lifeline.handshake');

type Listened = EmitterWebSocket & { [EVENTS]: TransportEvents; [HANDSHAKE]: string | null };

/** The handshake is the connection's first frame, written before `opened` is reported (none for a probe). */
function onOpen(this: EmitterWebSocket): void {
  const listened = this as Listened;
  if (listened[HANDSHAKE] !== null) listened.send(listened[HANDSHAKE]);
  listened[HANDSHAKE] = null;
  listened[EVENTS].opened();
}

function onMessage(this: EmitterWebSocket, data: { toString(): string }, isBinary: boolean): void {
  (this as Listened)[EVENTS].message(isBinary ? data : data.toString());
}

function onError(this: EmitterWebSocket, error: Error): void {
  const events = (this as Listened)[EVENTS];
  if (isInboundTooBig({ error })) events.frameTooLarge();
  // ws passes the cause: ECONNREFUSED and the like reached no server; "Unexpected server response"
  // (an upgrade answered with an HTTP status) and a socket closed before the upgrade did.
  else events.error(error, reachedServer(error));
}

function onClose(this: EmitterWebSocket, code: number, reason: { toString(): string }): void {
  (this as Listened)[EVENTS].closed(code, reason.toString());
}

const DefaultWebSocket = WebSocket as unknown as WebSocketClass;
/** The default class is ws (Node) rather than a browser's WebSocket: its emitter API is there. */
const defaultIsEmitter = typeof (DefaultWebSocket.prototype as Partial<EmitterWebSocket> | undefined)?.on === 'function';

/**
 * The WebSocket transport, over `WebSocketClass` (default: isomorphic-ws, one transport shared by
 * every client). A browser WebSocket cannot send headers, so the token rule never gives it a `bearer`.
 */
export function webSocketTransport(WebSocketImpl: WebSocketClass = DefaultWebSocket): ClientTransport {
  if (WebSocketImpl === DefaultWebSocket) return defaultTransport;
  return transportOver(WebSocketImpl, false);
}

function transportOver(WebSocketImpl: WebSocketClass, emitter: boolean): ClientTransport {
  return {
    connect({ url, handshake }, events) {
      // ws refuses a frame over maxPayload at its header, before reading it; browsers ignore the option.
      const ws = new WebSocketImpl(url, undefined, { maxPayload: MAX_SERVER_FRAME_BYTES });
      if (emitter) {
        const listened = ws as Listened;
        listened[EVENTS] = events;
        listened[HANDSHAKE] = handshake;
        listened.on('open', onOpen);
        listened.on('message', onMessage);
        listened.on('error', onError);
        listened.on('close', onClose);
        return new WebSocketConnection(ws);
      }
      ws.onopen = () => {
        if (handshake !== null) ws.send(handshake);
        events.opened();
      };
      ws.onmessage = (message) => events.message(message.data);
      // A close always follows an error; ws passes the cause, browsers hide it.
      ws.onerror = (event) => (isInboundTooBig(event) ? events.frameTooLarge() : events.error(event, reachedServer(event)));
      ws.onclose = (event) => events.closed(event.code, event.reason);
      return new WebSocketConnection(ws);
    },
  };
}

const defaultTransport = transportOver(DefaultWebSocket, defaultIsEmitter);
