// A raw client of the gateway's HTTP binding over node:http: opens a stream, records every SSE
// message (its frame, its own `id:` line, a `close` event), and POSTs frames. Does only what it
// is told; every wait is bounded, as with the raw WebSocket client.
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { createSseParser, parseSseClose, type SseClose } from '../../src/protocol/sse.js';
import type { Frame } from './raw-client.js';

const DEFAULT_TIMEOUT_MS = 2000;

/** One SSE message as received. */
export interface SseRecord {
  readonly event: string;
  /** The frame, for an unnamed message. */
  readonly frame: Frame | undefined;
  /** This message's own `id:` line, if it had one. */
  readonly id: string | undefined;
}

/** An HTTP answer read whole. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body as JSON, when it is. */
  readonly json: Record<string, unknown> | undefined;
}

/** What to open. */
export interface StreamOptions {
  /** The hello to send in `?hello=`; a string goes as is. Omitted: no hello parameter. */
  readonly hello?: object | string;
  /** Path and query (the plain form's `/sessions/…/events?agent=…`). @default '/' */
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Do not read the body (a stalled reader). */
  readonly paused?: boolean;
  readonly timeoutMs?: number;
}

/** An open stream (or a refusal: `status` other than 200, `body` read whole). */
export interface SseStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The `Lifeline-Connection` id. */
  readonly connectionId: string | undefined;
  /** The raw text received so far. */
  readonly raw: string;
  readonly messages: readonly SseRecord[];
  /** Frames of the unnamed messages, in order. */
  readonly frames: readonly Frame[];
  /** The `retry:` the stream set. */
  readonly retryMs: number | undefined;
  /** The `close` event, once received. */
  readonly closeEvent: SseClose | undefined;
  /** The response's socket, to read its state or to stall it. */
  readonly response: IncomingMessage;
  /** The next not-yet-consumed frame of `type` (any when omitted). */
  next(type?: string, timeoutMs?: number): Promise<Frame>;
  until(predicate: (frames: readonly Frame[]) => boolean, timeoutMs?: number, description?: string): Promise<void>;
  /** Resolve when the response has ended: with its close event, or 'dropped' without one. */
  ended(timeoutMs?: number): Promise<SseClose | 'dropped'>;
  /** POST frames (objects as JSON lines, strings as they are) to this stream's connection. */
  post(frames: ReadonlyArray<object | string>, options?: { readonly headers?: Readonly<Record<string, string>>; readonly connection?: string }): Promise<HttpAnswer>;
  /** Destroy the request, as a client that goes away. */
  abort(): void;
}

const streams: SseStream[] = [];

/** Abort every stream opened since the last call (call it in afterEach). */
export function abortStreams(): void {
  for (const stream of streams.splice(0)) stream.abort();
}

/** The http:// base of a gateway's ws:// URL. */
export function httpBase(wsUrl: string): string {
  return wsUrl.replace(/^ws/, 'http').replace(/\/$/, '');
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Send one HTTP request and read the whole answer. */
export function httpRequest(url: string, options: { readonly method: string; readonly headers?: Readonly<Record<string, string>>; readonly body?: string | Buffer; readonly timeoutMs?: number }): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method, headers: { ...options.headers }, timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: parseJson(body) });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${options.method} ${url} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** POST frames to a connection. */
export function postFrames(base: string, connection: string, frames: ReadonlyArray<object | string>, headers: Readonly<Record<string, string>> = {}): Promise<HttpAnswer> {
  const body = frames.map((f) => (typeof f === 'string' ? f : JSON.stringify(f))).join('\n');
  return httpRequest(`${base}/?connection=${encodeURIComponent(connection)}`, { method: 'POST', headers: { 'content-type': 'text/plain;charset=utf-8', ...headers }, body });
}

/** Open a stream on `base` (http://host:port). Resolves once the response head arrived. */
export function openStream(base: string, options: StreamOptions = {}): Promise<SseStream> {
  const path = options.path ?? '/';
  const query = options.hello === undefined ? '' : `${path.includes('?') ? '&' : '?'}hello=${encodeURIComponent(typeof options.hello === 'string' ? options.hello : JSON.stringify(options.hello))}`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}${query}`, { headers: { accept: 'text/event-stream', ...options.headers } });
    const timer = setTimeout(() => req.destroy(new Error(`no answer to the stream request within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      const messages: SseRecord[] = [];
      const frames: Frame[] = [];
      const listeners = new Set<() => void>();
      const notify = (): void => {
        for (const listener of [...listeners]) listener();
      };
      let raw = '';
      let retryMs: number | undefined;
      let closeEvent: SseClose | undefined;
      let ended = false;
      let readIndex = 0;
      const parser = createSseParser({
        message(message) {
          const id = message.hasId ? message.lastEventId : undefined;
          if (message.event === 'close') {
            closeEvent = parseSseClose(message.data);
            messages.push({ event: message.event, frame: undefined, id });
            return;
          }
          const json = parseJson(message.data);
          const frame = (json && typeof json['type'] === 'string' ? json : { type: '__text__', text: message.data }) as Frame;
          messages.push({ event: message.event, frame, id });
          frames.push(frame);
        },
        retry(ms) {
          retryMs = ms;
        },
      });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        parser.push(chunk);
        notify();
      });
      const finish = (): void => {
        ended = true;
        notify();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      if (options.paused) res.pause();

      const waitFor = <T>(check: () => T | undefined, ms: number, what: () => string): Promise<T> =>
        new Promise((done, fail) => {
          const attempt = (): boolean => {
            try {
              const value = check();
              if (value === undefined) return false;
              done(value);
            } catch (error) {
              fail(error instanceof Error ? error : new Error(String(error)));
            }
            return true;
          };
          if (attempt()) return;
          const listener = (): void => {
            if (attempt()) cleanup();
          };
          const timer = setTimeout(() => {
            cleanup();
            fail(new Error(`timed out after ${ms} ms waiting for ${what()}; received: ${frames.map((f) => f.type).join(', ') || 'nothing'}`));
          }, ms);
          const cleanup = (): void => {
            clearTimeout(timer);
            listeners.delete(listener);
          };
          listeners.add(listener);
        });

      const connectionId = res.headers['lifeline-connection'];
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        connectionId: typeof connectionId === 'string' ? connectionId : undefined,
        get raw() {
          return raw;
        },
        messages,
        frames,
        get retryMs() {
          return retryMs;
        },
        get closeEvent() {
          return closeEvent;
        },
        response: res,
        next(type, ms = DEFAULT_TIMEOUT_MS) {
          return waitFor(
            () => {
              for (let i = readIndex; i < frames.length; i++) {
                const frame = frames[i];
                if (frame && (type === undefined || frame.type === type)) {
                  readIndex = i + 1;
                  return frame;
                }
              }
              if (ended) throw new Error(`stream ended (${closeEvent ? `close ${closeEvent.code} ${closeEvent.reason}` : 'no close event'}) while waiting for ${type ?? 'a frame'}`);
              return undefined;
            },
            ms,
            () => `frame ${type ?? '(any)'}`,
          );
        },
        async until(predicate, ms = DEFAULT_TIMEOUT_MS, description = 'condition') {
          await waitFor(() => (predicate(frames) ? true : undefined), ms, () => description);
        },
        ended(ms = DEFAULT_TIMEOUT_MS) {
          return waitFor(() => (ended ? (closeEvent ?? 'dropped') : undefined), ms, () => 'the end of the stream');
        },
        post(toPost, postOptions = {}) {
          const id = postOptions.connection ?? stream.connectionId;
          if (id === undefined) throw new Error('this stream has no connection id');
          return postFrames(base, id, toPost, postOptions.headers);
        },
        abort() {
          req.destroy();
        },
      };
      streams.push(stream);
      resolve(stream);
    });
    req.end();
  });
}
