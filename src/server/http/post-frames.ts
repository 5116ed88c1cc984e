// Frames up: `POST <path>?connection=<id>` with one ClientFrame per line (NDJSON). The lines are
// checked as a whole first (a line over `max_payload` is 413, a line that is not a frame 400, and
// then none of them is handled), then handed to the connection in order, exactly as if read from
// its socket: their replies go down the stream. The POST itself answers 204.
//
// In a fleet a POST may reach a node other than the one holding the stream (no sticky sessions):
// the id names the holder, and the fleet's relay forwards the checked lines there. The POST is
// answered with the holder's verdict, the same statuses as a local one, so the connection's next
// POST always comes after these frames, wherever it lands.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { assertNever } from '../../protocol/assert-never.js';
import { decodeClientFrame } from '../../protocol/codec.js';
import { defaultNextStep, type WireErrorCode } from '../../protocol/errors.js';
import type { DeliveryOutcome, ForwardOutcome, RelayedFrames } from '../fleet.js';
import { SOCKET_OPEN } from '../transport.js';
import { bearerToken } from '../upgrade-info.js';
import { nodeOfConnection } from './connection-directory.js';
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

/** Where a POST's frames go: a connection of this node, or another node's through the fleet. */
export interface PostRoutes {
  /** This node's id: a connection id that names another node is forwarded. */
  readonly node: string;
  /** This node's connection with this id, if it has one. */
  find(id: string): HttpConnection | undefined;
  /** Hand checked frames to `node`, which holds their connection (the fleet's relay). */
  forward(node: string, frames: RelayedFrames): Promise<ForwardOutcome>;
}

/** A token as it is compared and relayed: its SHA-256, so the token itself never leaves the node. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Whether a POST's token digest, if it presents one, is the stream's token's (compared in constant time). */
function tokenMatches(presented: string | undefined, held: string | undefined): boolean {
  if (presented === undefined) return true;
  if (held === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(tokenDigest(held));
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Why frames cannot be handed to `connection` now; undefined when they can. */
function refusalOf(connection: HttpConnection | undefined, presented: string | undefined): Exclude<DeliveryOutcome, 'delivered'> | undefined {
  if (!connection || connection.socket.readyState !== SOCKET_OPEN) return 'unknown_connection';
  if (!tokenMatches(presented, connection.token)) return 'forbidden';
  // The gateway stopped reading this connection (maxInboundQueueBytes, maxMessagesInFlight), or
  // a POST of it is still being read.
  if (connection.reading || connection.socket.paused) return 'busy';
  return undefined;
}

/**
 * Hand frames that another node received to this node's connection, as a local POST would:
 * refused (and dropped) when the connection is gone, presents another token or is not reading.
 */
export function deliverRelayed(connection: HttpConnection | undefined, frames: RelayedFrames): DeliveryOutcome {
  const refusal = refusalOf(connection, frames.tokenDigest);
  if (refusal !== undefined || connection === undefined) return refusal ?? 'unknown_connection';
  for (const line of frames.lines) connection.socket.receive(line);
  return 'delivered';
}

/** Answer a POST with what became of its frames. */
function answerOutcome(res: ServerResponse, headers: Readonly<Record<string, string>>, outcome: ForwardOutcome): void {
  switch (outcome) {
    case 'delivered':
      res.writeHead(204, headers).end();
      return;
    case 'unknown_connection':
      return answer(res, 404, headers, 'unknown_connection', 'No open stream has this connection id (it closed, or never existed). Reconnect: open a new stream.');
    case 'no_answer':
      return answer(res, 404, headers, 'unknown_connection', 'The gateway node that holds this stream did not answer in time: treat the stream as gone. Reconnect: open a new stream.');
    case 'forbidden':
      return answer(res, 403, headers, 'auth_unauthorized', 'This token is not the one the stream was opened with.');
    case 'busy':
      // Send them again in a moment, with what queued meanwhile.
      res.setHeader('retry-after', '1');
      return answer(res, 429, headers, 'rate_limited', 'This connection is not reading frames right now (one POST at a time, and the gateway is still handling earlier ones). Send them again after retry_after_seconds.', { retry_after_seconds: 1 });
    case 'overloaded':
      res.setHeader('retry-after', '1');
      return answer(res, 429, headers, 'rate_limited', 'This gateway node is already forwarding as many POSTs to other nodes as it may (maxPendingForwards). Send them again after retry_after_seconds.', { retry_after_seconds: 1 });
    default:
      return assertNever(outcome);
  }
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

/** The answer to a body over the bound: `connection: close`, since the rest is not read. */
function tooLarge(res: ServerResponse, headers: Readonly<Record<string, string>>, limits: PostLimits): void {
  res.setHeader('connection', 'close');
  const frames = Math.round(limits.maxBodyBytes / limits.maxPayload);
  answer(res, 413, headers, 'payload_too_large', `The body is over ${limits.maxBodyBytes} bytes (policy.max_payload x ${frames} frames). Nothing in this POST was handled; send fewer frames per POST.`);
}

/** Answer one POST: its frames go to this node's connection, or to the node the id names. */
export async function handlePost(req: IncomingMessage, res: ServerResponse, url: URL, cors: CorsVerdict, routes: PostRoutes, limits: PostLimits): Promise<void> {
  const headers = corsHeaders(cors);
  if (cors.kind === 'refused') return answer(res, 403, {}, 'origin_not_allowed', 'This Origin is not allowed to connect.');
  const id = url.searchParams.get('connection') ?? '';
  const presented = bearerToken(req) ?? url.searchParams.get('token') ?? undefined;
  const digest = presented === undefined ? undefined : tokenDigest(presented);
  const holder = nodeOfConnection(id);
  if (holder !== undefined && holder !== routes.node) return forwardPost(req, res, headers, { node: holder, id, digest }, routes, limits);
  const connection = routes.find(id);
  const refusal = refusalOf(connection, digest);
  if (refusal !== undefined || connection === undefined) return answerOutcome(res, headers, refusal ?? 'unknown_connection');
  if (Number(req.headers['content-length'] ?? 0) > limits.maxBodyBytes) return tooLarge(res, headers, limits);
  connection.reading = true;
  let body: string | undefined;
  try {
    body = await readBody(req, limits.maxBodyBytes);
  } finally {
    connection.reading = false;
  }
  if (body === undefined) return tooLarge(res, headers, limits);
  const checked = checkLines(body, limits.maxPayload);
  if (!('lines' in checked)) return answer(res, checked.status, headers, checked.code, checked.message, checked.id === undefined ? {} : { id: checked.id });
  if (connection.socket.readyState !== SOCKET_OPEN) {
    return answer(res, 404, headers, 'unknown_connection', 'The stream closed while this POST was read. Reconnect: open a new stream.');
  }
  for (const line of checked.lines) connection.socket.receive(line);
  res.writeHead(204, headers).end();
}

/**
 * A POST for another node's connection: read and check it here (so a bad one costs the fleet
 * nothing), then have the relay hand the lines to the holder, and answer with its verdict.
 */
async function forwardPost(
  req: IncomingMessage,
  res: ServerResponse,
  headers: Readonly<Record<string, string>>,
  target: { readonly node: string; readonly id: string; readonly digest: string | undefined },
  routes: PostRoutes,
  limits: PostLimits,
): Promise<void> {
  if (Number(req.headers['content-length'] ?? 0) > limits.maxBodyBytes) return tooLarge(res, headers, limits);
  const body = await readBody(req, limits.maxBodyBytes);
  if (body === undefined) return tooLarge(res, headers, limits);
  const checked = checkLines(body, limits.maxPayload);
  if (!('lines' in checked)) return answer(res, checked.status, headers, checked.code, checked.message, checked.id === undefined ? {} : { id: checked.id });
  let outcome: ForwardOutcome;
  try {
    outcome = await routes.forward(target.node, { connection: target.id, lines: checked.lines, tokenDigest: target.digest });
  } catch {
    // This node cannot reach the store the relay runs on: nothing was handed over.
    res.setHeader('retry-after', '1');
    return answer(res, 503, headers, 'unavailable', 'This gateway node cannot reach the node that holds this stream (its event store is unreachable); nothing of this POST was handled. Reconnect, or send the frames again after retry_after_seconds.', { retry_after_seconds: 1 });
  }
  answerOutcome(res, headers, outcome);
}
