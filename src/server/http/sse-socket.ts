// One HTTP connection as a GatewaySocket: frames go down an SSE response, frames come up in POSTs
// (post-frames.ts hands them to `receive`). The gateway's connection code cannot tell it from a
// WebSocket: `bufferedAmount` is what the response has not yet written out (the slow-consumer
// bound and the replay pacing read it), `onWritten` fires as each write leaves it, and `close`
// sends the named `close` event that stands for a WebSocket's close frame.
//
// The response head waits until the gateway has looked at the connection: a refusal made as it
// arrives (origin, per-address caps and rate) is answered with an HTTP status instead of a
// stream (`start`), since a browser's EventSource would otherwise reconnect to be refused again.
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { CloseCode } from '../../protocol/close-codes.js';
import { sseCloseMessage, sseMessage, type SseClose } from '../../protocol/sse.js';
import { SOCKET_OPEN, type GatewaySocket, type SocketData } from '../transport.js';
import { createEventIds } from './event-ids.js';

/** `readyState` once closing, and once closed (the WebSocket constants). */
const CLOSING = 2;
const CLOSED = 3;

/** The HTTP status of a refusal made before the stream started, by close code. */
const STATUS_FOR_CLOSE: ReadonlyMap<number, number> = new Map([
  [CloseCode.OriginNotAllowed, 403],
  [CloseCode.Unauthorized, 401],
  [CloseCode.RateLimited, 429],
  [CloseCode.SessionLimit, 429],
  [CloseCode.Unavailable, 503],
]);

/** Options for {@link createSseSocket}. */
export interface SseSocketOptions {
  /** The SSE `retry:` the stream starts with: a browser's delay before it reconnects by itself. */
  readonly retryMs: number;
  /** Headers for every answer (CORS); the stream adds its own. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The gateway's socket for one SSE stream, plus what the HTTP endpoints need of it. */
export interface SseSocket extends GatewaySocket {
  /**
   * Call once the gateway has accepted the socket: answers a refusal it made meanwhile with its
   * HTTP status and the refusal frame as the body, or starts the stream with `streamHeaders`
   * added (`Lifeline-Connection`). True when streaming.
   */
  start(streamHeaders: Readonly<Record<string, string>>): boolean;
  /** Hand a frame read from the peer (the GET's hello, a POSTed line) to the gateway, in order. */
  receive(text: string): void;
  /** The gateway stopped reading (its inbound queue is full): POSTs wait their turn meanwhile. */
  readonly paused: boolean;
}

type Phase = 'accepting' | 'open' | 'closing' | 'closed';

/** The HTTP answer to a refusal made before the stream started. */
function refusalHead(close: SseClose, body: string | undefined, headers: Readonly<Record<string, string>>): { status: number; headers: Record<string, string> } {
  const status = STATUS_FOR_CLOSE.get(close.code) ?? 503;
  let retryAfter: unknown;
  try {
    retryAfter = body === undefined ? undefined : (JSON.parse(body) as { retry_after_seconds?: unknown }).retry_after_seconds;
  } catch {
    retryAfter = undefined;
  }
  return {
    status,
    headers: {
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...(typeof retryAfter === 'number' ? { 'retry-after': String(Math.max(1, Math.ceil(retryAfter))) } : {}),
    },
  };
}

/** Wrap a response that will carry one stream. */
export function createSseSocket(res: ServerResponse, options: SseSocketOptions): SseSocket {
  const events = new EventEmitter();
  const ids = createEventIds();
  let phase: Phase = 'accepting';
  let paused = false;
  // Frames sent while the gateway accepts the socket: written once the stream starts, or the
  // refusal among them becomes the body of an HTTP error.
  let early: { readonly text: string; readonly onWritten: ((error?: Error) => void) | undefined }[] = [];
  let earlyBytes = 0;
  let closeSent: SseClose | undefined;

  res.on('close', () => {
    phase = 'closed';
    // A stream that ended without its close event was dropped: 1006, as a WebSocket reports it.
    events.emit('close', closeSent?.code ?? CloseCode.Abnormal);
  });
  // Write errors end in 'close'; an 'error' without a listener would crash the process.
  res.on('error', (error) => events.emit('error', error));

  const write = (text: string, onWritten: ((error?: Error) => void) | undefined): void => {
    const chunk = sseMessage(text, ids.idFor(text));
    if (onWritten) res.write(chunk, (error) => onWritten(error ?? undefined));
    else res.write(chunk);
    // Node corks a response's socket until the next tick, so a burst written in one tick would
    // count as unsent (and evict a healthy reader). Hand each frame to the kernel at once, as a
    // WebSocket does: what stays in `writableLength` is then what the reader has not taken.
    res.socket?.uncork();
  };

  const socket: SseSocket = {
    get readyState() {
      // A peer that went away shows on the socket before the response's 'close' event runs: from
      // then on, writes would only pile up (and evict a reader that is merely gone).
      if (phase === 'open' && (res.destroyed || res.socket?.writable !== true)) return CLOSING;
      return phase === 'accepting' || phase === 'open' ? SOCKET_OPEN : phase === 'closing' ? CLOSING : CLOSED;
    },
    get bufferedAmount() {
      return phase === 'accepting' ? earlyBytes : res.writableLength;
    },
    get paused() {
      return paused;
    },
    send(text, onWritten) {
      if (phase === 'accepting') {
        early.push({ text, onWritten });
        earlyBytes += text.length;
      } else if (phase === 'open') write(text, onWritten);
      else if (onWritten) queueMicrotask(() => onWritten(new Error('the stream is closed')));
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
    },
    close(code, reason) {
      if (phase === 'closing' || phase === 'closed') return;
      closeSent = { code, reason };
      if (phase === 'accepting') {
        // Answered by start(), once the gateway has finished accepting.
        phase = 'closing';
        return;
      }
      phase = 'closing';
      res.end(sseCloseMessage(closeSent));
    },
    terminate() {
      phase = phase === 'closed' ? 'closed' : 'closing';
      res.destroy();
    },
    start(streamHeaders) {
      const frames = early;
      early = [];
      earlyBytes = 0;
      if (phase === 'closing' && closeSent && !res.headersSent && !res.destroyed) {
        const body = frames.at(-1)?.text;
        const head = refusalHead(closeSent, body, options.headers);
        res.writeHead(head.status, head.headers).end(body);
        for (const frame of frames) frame.onWritten?.();
        return false;
      }
      if (phase !== 'accepting') return false;
      phase = 'open';
      res.writeHead(200, {
        ...options.headers,
        ...streamHeaders,
        'content-type': 'text/event-stream; charset=utf-8',
        // no-transform: a compressing proxy must not hold the stream back to fill its buffer.
        'cache-control': 'no-cache, no-transform',
        // nginx buffers proxied responses unless told not to, per response.
        'x-accel-buffering': 'no',
      });
      res.write(`retry: ${options.retryMs}\n\n`);
      for (const frame of frames) write(frame.text, frame.onWritten);
      return true;
    },
    receive(text) {
      if (phase === 'accepting' || phase === 'open') events.emit('message', text satisfies SocketData, false);
    },
    on(event: 'message' | 'error' | 'close', listener: (...args: never[]) => void) {
      events.on(event, listener as (...args: unknown[]) => void);
      return socket;
    },
  };
  return socket;
}
