// Frames up: `POST <path>?connection=<id>` with one ClientFrame per line (NDJSON). The lines are
// checked as a whole first (a line over `max_payload` is 413, a line that is not a frame 400, and
// then none of them is handled), then handed to the connection in order, exactly as if read from
// its socket: their replies go down the stream. The POST itself answers 204.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeClientFrame } from '../../protocol/codec.js';
import { defaultNextStep, type WireErrorCode } from '../../protocol/errors.js';
import { SOCKET_OPEN } from '../transport.js';
import { bearerToken } from '../upgrade-info.js';
import { corsHeaders, type CorsVerdict } from './cors.js';
import type { SseSocket } from './sse-socket.js';

/** A stream as the POST endpoint knows it. */
export interface HttpConnection {
  readonly socket: SseSocket;
  /** The token the stream was opened with; a POST that presents another is refused. */
  readonly token: string | undefined;
  /** A POST of this connection is being read: the next waits (one in flight keeps the order). */
  reading: boolean;
}

/** Limits of the POST endpoint. */
export interface PostLimits {
  /** `policy.max_payload`: the largest frame, per line. */
  readonly maxPayload: number;
  /** The largest body: `maxPayload` times a few frames. */
  readonly maxBodyBytes: number;
}

/** An `error` frame as a POST's JSON body. */
function answer(res: ServerResponse, status: number, headers: Readonly<Record<string, string>>, code: WireErrorCode, message: string, extra: Record<string, unknown> = {}): void {
  const body = JSON.stringify({ type: 'error', code, message, next_step: defaultNextStep(code), ...extra });
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(body);
}

const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

/** Whether a POST's token, if it presents one, is the stream's (compared in constant time). */
function tokenMatches(presented: string | undefined, held: string | undefined): boolean {
  if (presented === undefined) return true;
  return held !== undefined && timingSafeEqual(digest(presented), digest(held));
}

/** Read a body up to `limit` bytes; resolves undefined (and stops reading) past it. */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limit) {
        req.removeAllListeners('data');
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The frame lines of a body, or the first one that cannot be handled and why. */
function checkLines(body: string, maxPayload: number): { readonly lines: string[] } | { readonly status: 400 | 413; readonly code: 'bad_frame' | 'payload_too_large'; readonly message: string; readonly id?: string } {
  const lines = body.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line)).filter((line) => line.trim() !== '');
  for (const [index, line] of lines.entries()) {
    const decoded = decodeClientFrame(line, maxPayload);
    if (decoded.ok) continue;
    const { code, message, id } = decoded.error;
    const where = `Line ${index + 1} of the body: ${message} Nothing in this POST was handled.`;
    return { status: code === 'payload_too_large' ? 413 : 400, code, message: where, ...(id === undefined ? {} : { id }) };
  }
  return { lines };
}

/** Answer one POST for the connection `find` returns (undefined: gone or never known). */
export async function handlePost(req: IncomingMessage, res: ServerResponse, url: URL, cors: CorsVerdict, find: (id: string) => HttpConnection | undefined, limits: PostLimits): Promise<void> {
  const headers = corsHeaders(cors);
  if (cors.kind === 'refused') return answer(res, 403, {}, 'origin_not_allowed', 'This Origin is not allowed to connect.');
  const id = url.searchParams.get('connection');
  const connection = id === null ? undefined : find(id);
  if (!connection || connection.socket.readyState !== SOCKET_OPEN) {
    return answer(res, 404, headers, 'unknown_connection', 'No open stream has this connection id (it closed, or never existed here). Reconnect: open a new stream.');
  }
  if (!tokenMatches(bearerToken(req) ?? url.searchParams.get('token') ?? undefined, connection.token)) {
    return answer(res, 403, headers, 'auth_unauthorized', 'This token is not the one the stream was opened with.');
  }
  if (connection.reading || connection.socket.paused) {
    // The gateway stopped reading this connection (maxInboundQueueBytes, maxMessagesInFlight), or
    // a POST is still being read: send it again in a moment, with what queued meanwhile.
    res.setHeader('retry-after', '1');
    return answer(res, 429, headers, 'rate_limited', 'This connection is not reading frames right now (one POST at a time, and the gateway is still handling earlier ones). Send them again after retry_after_seconds.', { retry_after_seconds: 1 });
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = `The body is over ${limits.maxBodyBytes} bytes (policy.max_payload x ${Math.round(limits.maxBodyBytes / limits.maxPayload)} frames). Nothing in this POST was handled; send fewer frames per POST.`;
  if (declared > limits.maxBodyBytes) {
    res.setHeader('connection', 'close');
    return answer(res, 413, headers, 'payload_too_large', tooLarge);
  }
  connection.reading = true;
  let body: string | undefined;
  try {
    body = await readBody(req, limits.maxBodyBytes);
  } finally {
    connection.reading = false;
  }
  if (body === undefined) {
    res.setHeader('connection', 'close');
    return answer(res, 413, headers, 'payload_too_large', tooLarge);
  }
  const checked = checkLines(body, limits.maxPayload);
  if (!('lines' in checked)) return answer(res, checked.status, headers, checked.code, checked.message, checked.id === undefined ? {} : { id: checked.id });
  if (connection.socket.readyState !== SOCKET_OPEN) {
    return answer(res, 404, headers, 'unknown_connection', 'The stream closed while this POST was read. Reconnect: open a new stream.');
  }
  for (const line of checked.lines) connection.socket.receive(line);
  res.writeHead(204, headers).end();
}
