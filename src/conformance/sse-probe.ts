// One stream of the HTTP binding under test (PROTOCOL.md section 9): a GET whose SSE messages are
// recorded as frames (with each message's own id), POSTs for frames up, and the `close` event as
// the connection's close. Like the WebSocket probe, every wait is bounded.
import { request as httpRequest, type IncomingHttpHeaders, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { redactTokens } from '../protocol/credentials.js';
import { CONNECTION_HEADER, createSseParser, parseSseClose, SSE_CLOSE_EVENT } from '../protocol/sse.js';
import { FrameRecorder, received } from './frame-recorder.js';

/** Bodies read whole (refusals, POST answers) are cut here: the kit is no place for big bodies. */
const MAX_BODY_CHARS = 64 * 1024;
/** The most one stream may send a probe, so a hostile gateway cannot fill the kit's memory. */
const MAX_STREAM_CHARS = 16 * 1024 * 1024;

/** An HTTP answer read whole. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly json: Record<string, unknown> | undefined;
}

/** The http(s):// form of a ws(s):// URL, as the binding asks clients to use. */
export function httpUrlOf(wsUrl: string): URL {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return url;
}

function requestFor(url: URL): typeof httpRequest {
  return url.protocol === 'https:' ? httpsRequest : httpRequest;
}

/** Send one request and read the answer whole (at most `MAX_BODY_CHARS`), within `timeoutMs`. */
export function send(url: URL, method: string, headers: Readonly<Record<string, string>>, body: string | undefined, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = requestFor(url)(url, { method, headers: { ...headers }, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.length > MAX_BODY_CHARS) res.destroy();
      });
      const done = (): void => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: received(text).json });
      res.on('end', done);
      res.on('close', done);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => reject(new Error(`${method} ${redactTokens(url.toString())}: ${error.message}`)));
    req.end(body);
  });
}

/** A stream opened by a rule; `send` POSTs frames up, one POST at a time, in order. */
export class SseProbe extends FrameRecorder {
  /** Each frame's own SSE id (`frames[i]` had `ids[i]`), undefined where it had no `id:` line. */
  readonly ids: (string | undefined)[] = [];
  /** Answers to the POSTs sent so far, in order. */
  readonly posts: HttpAnswer[] = [];
  private posting: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly req: ClientRequest,
    private readonly postUrl: URL | undefined,
    private readonly timeoutMs: number,
    /** The response: its status and headers. */
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    /** The body of an answer that was not a stream (a refusal). */
    readonly body: string,
  ) {
    super();
  }

  /** The `Lifeline-Connection` id the stream was given. */
  get connectionId(): string | undefined {
    const id = this.headers[CONNECTION_HEADER.toLowerCase()];
    return typeof id === 'string' ? id : undefined;
  }

  /**
   * Open a stream: `GET url` with `Accept: text/event-stream`. Resolves once the answer's head
   * arrived (and, for an answer that is not a stream, its body); rejects when nothing answers.
   */
  static open(url: URL, headers: Readonly<Record<string, string>>, timeoutMs: number): Promise<SseProbe> {
    return new Promise((resolve, reject) => {
      const req = requestFor(url)(url, { headers: { accept: 'text/event-stream', ...headers } });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`GET ${redactTokens(url.toString())}: ${error.message}`));
      });
      req.on('response', (res) => {
        clearTimeout(timer);
        res.setEncoding('utf8');
        const status = res.statusCode ?? 0;
        const isStream = status === 200 && String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
        if (!isStream) {
          let body = '';
          res.on('data', (chunk: string) => {
            body += chunk;
            if (body.length > MAX_BODY_CHARS) res.destroy();
          });
          const done = (): void => resolve(new SseProbe(req, undefined, timeoutMs, status, res.headers, body));
          res.on('end', done);
          res.on('close', done);
          return;
        }
        const id = res.headers[CONNECTION_HEADER.toLowerCase()];
        const postUrl = typeof id === 'string' ? new URL(url) : undefined;
        if (postUrl && typeof id === 'string') {
          postUrl.search = '';
          postUrl.searchParams.set('connection', id);
        }
        const probe = new SseProbe(req, postUrl, timeoutMs, status, res.headers, '');
        let total = 0;
        const parser = createSseParser(
          {
            message: (message) => {
              if (message.event === SSE_CLOSE_EVENT) return probe.closed(parseSseClose(message.data) ?? { code: 0, reason: `unreadable close event: ${message.data.slice(0, 80)}` });
              probe.ids.push(message.hasId ? message.lastEventId : undefined);
              probe.record(received(message.data));
            },
          },
          MAX_STREAM_CHARS,
        );
        res.on('data', (chunk: string) => {
          total += chunk.length;
          if (total > MAX_STREAM_CHARS) return void res.destroy();
          parser.push(chunk);
        });
        const ended = (): void => probe.closed();
        res.on('end', ended);
        res.on('close', ended);
        res.on('error', ended);
        resolve(probe);
      });
      req.end();
    });
  }

  /** POST frames (objects as JSON lines, strings as they are) to this stream; resolves with the answer. */
  post(frames: ReadonlyArray<object | string>, headers: Readonly<Record<string, string>> = {}, connection?: string): Promise<HttpAnswer> {
    const url = this.postUrl ? new URL(this.postUrl) : undefined;
    if (!url) return Promise.reject(new Error('the stream gave no Lifeline-Connection id to POST to'));
    if (connection !== undefined) url.searchParams.set('connection', connection);
    const body = frames.map((f) => (typeof f === 'string' ? f : JSON.stringify(f))).join('\n');
    // One POST in flight per connection, as the binding asks of clients: order holds.
    const answer = this.posting.then(() => send(url, 'POST', { 'content-type': 'text/plain;charset=utf-8' , ...headers }, body, this.timeoutMs));
    this.posting = answer.catch(() => undefined);
    return answer.then((a) => {
      this.posts.push(a);
      return a;
    });
  }

  /** Frames up as a rule sends them on a WebSocket: fire and forget (answers land in `posts`). */
  send(frame: object): void {
    this.post([frame]).catch(() => undefined);
  }

  /** End the stream from this side. */
  close(): Promise<void> {
    this.req.destroy();
    return Promise.resolve();
  }
}
