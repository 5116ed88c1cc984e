// The HTTP transport (PROTOCOL.md, "Transport bindings: HTTP"), for networks that cannot carry a
// WebSocket. Per connection: one streaming GET that reads Server-Sent Events (every ServerFrame,
// unchanged; `event: close` carries the close code), and POSTs that carry the client's frames as
// NDJSON, at most one in flight so they arrive in order. `fetch` only, so it runs in browsers and
// in Node 20+ alike. Every request has a deadline; closing aborts them all.
import { CLOSE_CODE_FOR_ERROR, CloseCode, MAX_SERVER_FRAME_BYTES } from '../protocol/index.js';
import { CONNECTION_HEADER, createSseParser, parseSseClose, SSE_CLOSE_EVENT, type SseMessage } from '../protocol/sse.js';
import { reachedServer } from './connect-failure.js';
import { connectError, type GatewayConnectError } from './errors.js';
import { httpUrl } from './gateway-urls.js';
import type { ClientTransport, TransportConnection, TransportEvents, TransportRequest } from './transport.js';
import type { ClientClock } from './types.js';

/** Frames one POST carries at most (the gateway takes `policy.max_payload` x 64 per body). */
export const MAX_FRAMES_PER_POST = 64;
/** Bytes (UTF-16 units) one POST batches up to, unless a single frame is larger: under the 1 MiB body limit proxies such as nginx default to. */
const MAX_BATCH_CHARS = 256 * 1024;
/** Most of a refusal's body read (a `hello_error` or an error frame is far smaller); the rest is not read. */
const MAX_REFUSAL_BYTES = 64 * 1024;
/** Longest wait a 429 may ask for before the same frames are POSTed again. */
const MAX_RATE_LIMIT_WAIT_MS = 30_000;
/** Wait after a 429 that names none. */
const DEFAULT_RATE_LIMIT_WAIT_MS = 1000;

/** What the HTTP transport needs from the client. */
export interface HttpTransportOptions {
  /** The client's clock: every deadline and wait is a timer on it. */
  readonly clock: ClientClock;
  /** Deadline of the stream's response headers and of each POST (the client's `handshakeTimeoutMs`). */
  readonly deadlineMs: number;
  /**
   * Frames that may wait behind the POST in flight. One more ends the connection as lost (the
   * gateway is not taking them), and the client reconnects and resends from its outbox. The client
   * sets it above its outbox bound, so a flush of the whole outbox always fits.
   */
  readonly maxQueuedFrames: number;
  /** The fetch to use (the global one, bound); undefined where the runtime has none, and then every attempt fails with a clear cause. */
  readonly fetch: typeof fetch | undefined;
}

/** The HTTP transport: SSE down, POST up. */
export function httpTransport(options: HttpTransportOptions): ClientTransport {
  return {
    connect(request, events) {
      const { fetch } = options;
      if (fetch === undefined) throw new Error('fetch is not available in this runtime, so the HTTP transport cannot run; use transports: [\'websocket\']');
      return new HttpConnection({ ...options, fetch }, request, events);
    },
  };
}

/** A frame the gateway does not need over HTTP: the stream's liveness is its writes, so no pong is POSTed. */
function isPong(text: string): boolean {
  return text.startsWith('{"type":"pong"');
}

/** Node's fetch wraps the real cause (ECONNREFUSED, …) in "fetch failed"; the cause says more. */
function causeOf(error: unknown): unknown {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error ? cause : error;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function lost(message: string, cause?: unknown): GatewayConnectError {
  return connectError('connection_lost', message, { closeCode: CloseCode.Abnormal }, cause);
}

/** A JSON object with a string `type`, or null: a refusal's body may be anything a proxy writes. */
function frameOf(text: string): { type: string; code?: unknown; id?: unknown; retry_after_seconds?: unknown } | null {
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null && typeof (parsed as { type?: unknown }).type === 'string' ? (parsed as { type: string }) : null;
  } catch {
    return null;
  }
}

/** Up to `maxBytes` of a body as text; the rest is cancelled, so a hostile body cannot fill memory. */
async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (body === null) return '';
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    text += decoder.decode(value, { stream: true });
    if (bytes >= maxBytes) {
      await reader.cancel().catch(() => undefined);
      return text;
    }
  }
}

/** The stream's URL: the gateway URL over http(s), with the handshake as `hello` (a probe sends none: the gateway waits for it). */
function streamUrl(url: string, handshake: string | null): string {
  const parsed = new URL(httpUrl(url));
  if (handshake !== null) parsed.searchParams.set('hello', handshake);
  return parsed.toString();
}

/** Where frames are POSTed: the same path, with only the connection id (no token: the id is the capability). */
function postUrl(url: string, connection: string): string {
  const parsed = new URL(httpUrl(url));
  return `${parsed.origin}${parsed.pathname}?connection=${encodeURIComponent(connection)}`;
}

// A class, not a closure per method: one per connection (bench/README.md, memory).
class HttpConnection implements TransportConnection {
  private state: 'opening' | 'open' | 'closed' = 'opening';
  private readonly aborter = new AbortController();
  /** Frames waiting for the next POST. */
  private queue: string[] = [];
  /** A POST is in flight, or waiting out a 429: the next one waits for it. */
  private posting = false;
  private target = '';
  private readonly timers = new Set<unknown>();

  constructor(
    private readonly options: HttpTransportOptions & { readonly fetch: typeof fetch },
    private readonly request: TransportRequest,
    private readonly events: TransportEvents,
  ) {
    void this.open();
  }

  send(text: string): boolean {
    if (this.state !== 'open') return false;
    if (isPong(text)) return true;
    this.queue.push(text);
    if (this.queue.length > this.options.maxQueuedFrames) {
      this.finish(
        CloseCode.Abnormal,
        'post queue full',
        lost(`${this.queue.length} frames waited behind a POST that did not finish (maxQueuedFrames ${this.options.maxQueuedFrames}): the gateway is not taking them. The client reconnects and resends from its outbox.`),
      );
      return false;
    }
    this.pump();
    return true;
  }

  close(): void {
    this.finish(CloseCode.Normal, 'client closing');
  }

  terminate(): void {
    this.finish(CloseCode.Abnormal, '');
  }

  /** A timer on the client's clock, cleared when the connection ends. */
  private after(ms: number, fn: () => void): () => void {
    const id = this.options.clock.setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, ms);
    this.timers.add(id);
    return () => {
      this.timers.delete(id);
      this.options.clock.clearTimeout(id);
    };
  }

  /** End the connection once: abort every request, then report (error first, when there is a cause) and `closed`. */
  private finish(code: number, reason: string, cause?: unknown): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.queue = [];
    for (const id of this.timers) this.options.clock.clearTimeout(id);
    this.timers.clear();
    this.aborter.abort();
    // Reported after the caller's turn, as a WebSocket reports its close.
    queueMicrotask(() => {
      if (cause !== undefined) this.events.error(cause, reachedServer(cause));
      this.events.closed(code, reason);
    });
  }

  private async open(): Promise<void> {
    const { url, handshake, bearer } = this.request;
    const cancelDeadline = this.after(this.options.deadlineMs, () =>
      this.finish(CloseCode.Abnormal, '', new Error(`The event stream did not answer within ${this.options.deadlineMs} ms (handshakeTimeoutMs)`)),
    );
    let response: Response;
    try {
      response = await this.options.fetch(streamUrl(url, handshake), {
        headers: { accept: 'text/event-stream', ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }) },
        cache: 'no-store',
        signal: this.aborter.signal,
      });
    } catch (error) {
      return this.finish(CloseCode.Abnormal, '', causeOf(error));
    }
    if (this.state === 'closed') return;
    const connection = response.headers.get(CONNECTION_HEADER);
    const isStream = (response.headers.get('content-type') ?? '').toLowerCase().startsWith('text/event-stream');
    if (response.status !== 200 || !isStream || response.body === null || !connection) {
      const body = await readCapped(response.body, MAX_REFUSAL_BYTES).catch(() => '');
      cancelDeadline();
      return this.refused(response, body, isStream);
    }
    cancelDeadline();
    this.target = postUrl(url, connection);
    this.state = 'open';
    this.events.opened();
    await this.read(response.body);
  }

  /**
   * A stream that did not start. A gateway's refusal before the stream (origin, connection rate,
   * caps: `403`/`429` with a `hello_error` body) reads as the same refusal a stream would carry;
   * anything else never opened, and says why.
   */
  private refused(response: Response, body: string, isStream: boolean): void {
    if (this.state === 'closed') return;
    const refusal = response.status === 200 ? null : frameOf(body);
    if (refusal?.type === 'hello_error') {
      this.state = 'open';
      this.events.opened();
      this.events.message(body);
      const code = (CLOSE_CODE_FOR_ERROR as Readonly<Record<string, number | undefined>>)[String(refusal.code)] ?? CloseCode.BadFrame;
      return this.finish(code, String(refusal.code));
    }
    const why =
      response.status !== 200
        ? `The event stream request answered HTTP ${response.status}`
        : !isStream
          ? `The event stream request answered 200 with Content-Type ${JSON.stringify(response.headers.get('content-type') ?? '')}, not text/event-stream`
          : 'The event stream request answered without a Lifeline-Connection header (a proxy dropped it, or across origins the gateway did not expose it)';
    this.finish(CloseCode.Abnormal, '', new Error(why));
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let overflow = false;
    // A frame may be MAX_SERVER_FRAME_BYTES long (its characters are at most its bytes); the
    // `data: ` prefix and the line end come on top.
    const parser = createSseParser({ message: (message) => this.dispatch(message), overflow: () => (overflow = true) }, MAX_SERVER_FRAME_BYTES + 64);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.state === 'closed') return;
        if (done) return this.finish(CloseCode.Abnormal, '');
        parser.push(decoder.decode(value, { stream: true }));
        if (overflow) {
          // Like ws at a frame's header: refuse it unread and end the connection.
          this.events.frameTooLarge();
          return this.terminate();
        }
      }
    } catch (error) {
      this.finish(CloseCode.Abnormal, '', causeOf(error));
    }
  }

  private dispatch(message: SseMessage): void {
    if (this.state !== 'open') return;
    if (message.event === 'message') this.events.message(message.data);
    else if (message.event === SSE_CLOSE_EVENT) {
      const close = parseSseClose(message.data) ?? { code: CloseCode.Abnormal, reason: '' };
      this.finish(close.code, close.reason);
    }
  }

  /** POST what is queued, unless a POST is in flight: one at a time keeps the frames in order. */
  private pump(): void {
    if (this.posting || this.queue.length === 0 || this.state !== 'open') return;
    let count = 0;
    let chars = 0;
    for (const frame of this.queue) {
      if (count === MAX_FRAMES_PER_POST || (count > 0 && chars + frame.length > MAX_BATCH_CHARS)) break;
      count++;
      chars += frame.length + 1;
    }
    this.posting = true;
    void this.post(this.queue.splice(0, count));
  }

  private async post(batch: string[]): Promise<void> {
    const cancelDeadline = this.after(this.options.deadlineMs, () =>
      this.finish(CloseCode.Abnormal, '', lost(`A POST of ${batch.length} frames was not answered within ${this.options.deadlineMs} ms (handshakeTimeoutMs).`)),
    );
    let status: number;
    let body: string;
    let retryAfter: string | null;
    try {
      const response = await this.options.fetch(this.target, {
        method: 'POST',
        // CORS-safelisted, so a cross-origin POST needs no preflight.
        headers: { 'content-type': 'text/plain;charset=utf-8' },
        body: batch.join('\n'),
        cache: 'no-store',
        signal: this.aborter.signal,
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      body = await readCapped(response.body, MAX_REFUSAL_BYTES);
    } catch (error) {
      return this.finish(CloseCode.Abnormal, '', lost(`A POST failed: ${messageOf(causeOf(error))}.`, causeOf(error)));
    } finally {
      cancelDeadline();
    }
    if (this.state !== 'open') return;
    if (this.answered(status, body, retryAfter, batch)) {
      this.posting = false;
      this.pump();
    }
  }

  /** What a POST's answer means; false when the connection ended or the frames wait for a retry. */
  private answered(status: number, body: string, retryAfter: string | null, batch: string[]): boolean {
    if (status >= 200 && status < 300) return true;
    const refusal = frameOf(body);
    if (status === 404) {
      this.finish(CloseCode.Abnormal, 'unknown connection', lost('The gateway no longer knows this connection (unknown_connection): the stream is gone. The client reconnects and resends from its outbox.'));
      return false;
    }
    if (status === 429) {
      const hinted = Number(retryAfter ?? (typeof refusal?.retry_after_seconds === 'number' ? refusal.retry_after_seconds : NaN)) * 1000;
      const waitMs = Number.isFinite(hinted) ? Math.min(Math.max(0, hinted), MAX_RATE_LIMIT_WAIT_MS) : DEFAULT_RATE_LIMIT_WAIT_MS;
      this.queue.unshift(...batch);
      this.after(waitMs, () => {
        this.posting = false;
        this.pump();
      });
      return false;
    }
    if ((status === 400 || status === 413) && refusal?.type === 'error') {
      // The gateway's own refusal of one line, before it handled any of the POST: report it as its
      // reply (naming a message, it fails that send). The others go again; a message under its id
      // is applied once whatever became of the first copy. A refusal that names no message leaves
      // the culprit unknown: end the connection, and the next join resends what was not acked.
      this.events.message(body);
      if (refusal.id === undefined) {
        this.finish(CloseCode.Abnormal, '', lost(`A POST was refused with HTTP ${status} (${String(refusal.code)}); nothing of it was handled.`));
        return false;
      }
      this.queue.unshift(...batch.filter((frame) => frameOf(frame)?.id !== refusal.id));
      return true;
    }
    // A proxy's 413 (its body size limit): the "too big" close, so the largest message in flight is refused.
    if (status === 413) this.finish(CloseCode.MessageTooBig, 'POST body too large', lost(`A POST of ${batch.length} frames was refused as too large (HTTP 413).`));
    else this.finish(CloseCode.Abnormal, '', lost(`A POST was answered with HTTP ${status}.`));
    return false;
  }
}
