// The `hello` a stream request carries: the `hello` query parameter of the full binding, or the
// one the gateway builds for a plain EventSource (`…/sessions/<id>/events?agent=…`). Either way a
// `Last-Event-ID` header (a browser's own reconnect) overrides its `since` and `epoch`.
import { PROTOCOL_VERSION } from '../../protocol/versions.js';
import { parseEventId } from '../../protocol/sse.js';

/** The path of the plain EventSource form; the session id is its last but one segment. */
const PLAIN_PATH = /\/sessions\/([^/]+)\/events\/?$/;

/**
 * The capabilities a plain EventSource's hello lists: `epoch` (its ids carry it), and no `batch`,
 * so each event comes as its own message with its own id.
 */
export const PLAIN_CAPABILITIES: readonly string[] = ['epoch'];

/** A stream request's hello, or why the request cannot be served (answered 400, before any stream). */
export type StreamHello =
  | {
      readonly ok: true;
      /** The hello's text; undefined when the request had none (it may then come by POST). */
      readonly text: string | undefined;
      /** The token the stream was opened with (hello, bearer or query): later POSTs must match it. */
      readonly token: string | undefined;
      /** The request URL as logged and as the handshake reads `?token=` from: without the hello. */
      readonly url: string;
    }
  | { readonly ok: false; readonly message: string };

/** Whether a path is the plain EventSource form. */
export function isPlainStreamPath(pathname: string): boolean {
  return PLAIN_PATH.test(pathname);
}

const WHOLE = /^\d{1,16}$/;

/** The hello of the plain form, built from its path and query. */
function plainHello(url: URL): Record<string, unknown> | string {
  const segment = PLAIN_PATH.exec(url.pathname)?.[1] ?? '';
  let sessionId: string;
  try {
    sessionId = decodeURIComponent(segment);
  } catch {
    return 'The session id in the path is not valid percent-encoding.';
  }
  const query = url.searchParams;
  const agent = query.get('agent');
  if (!agent) return 'A plain EventSource stream needs ?agent=<agent id> (…/sessions/<id>/events?agent=demo).';
  const since = query.get('since');
  const protocol = query.get('protocol');
  if (since !== null && !WHOLE.test(since)) return `?since= must be a whole number, got "${since.slice(0, 32)}".`;
  if (protocol !== null && !WHOLE.test(protocol)) return `?protocol= must be a whole number, got "${protocol.slice(0, 32)}".`;
  const epoch = query.get('epoch');
  return {
    type: 'hello',
    agent_id: agent,
    session_id: sessionId,
    protocol_min: protocol === null ? 1 : Number(protocol),
    protocol_max: protocol === null ? PROTOCOL_VERSION : Number(protocol),
    capabilities: [...PLAIN_CAPABILITIES],
    ...(since === null ? {} : { since: Number(since) }),
    ...(epoch === null ? {} : { epoch }),
  };
}

/** The hello of the full binding's `?hello=`: an object, its raw text when it is not one, or none. */
function queryHello(url: URL): Record<string, unknown> | string | undefined {
  const text = url.searchParams.get('hello');
  if (text === null) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Handed over as it is: the handshake refuses it with bad_frame, in the stream.
  }
  return text;
}

/**
 * Read a stream request's hello. `bearer` and the query's `token` are the other places a token
 * may come from (the handshake takes the hello's first).
 */
export function streamHello(url: URL, lastEventId: string | undefined, bearer: string | undefined): StreamHello {
  const plain = PLAIN_PATH.test(url.pathname);
  let hello: Record<string, unknown> | string | undefined;
  if (plain) {
    const built = plainHello(url);
    if (typeof built === 'string') return { ok: false, message: built };
    hello = built;
  } else hello = queryHello(url);
  if (lastEventId !== undefined && lastEventId !== '') {
    const resume = parseEventId(lastEventId);
    if (!resume) return { ok: false, message: 'Last-Event-ID must be <epoch>:<seq>, as this gateway wrote it in the stream.' };
    if (typeof hello === 'object') hello = { ...hello, since: resume.seq, epoch: resume.epoch };
  }
  const helloToken = typeof hello === 'object' && typeof hello['token'] === 'string' ? hello['token'] : undefined;
  const stripped = new URL(url);
  stripped.searchParams.delete('hello');
  return {
    ok: true,
    text: hello === undefined ? undefined : typeof hello === 'string' ? hello : JSON.stringify(hello),
    token: helloToken ?? bearer ?? url.searchParams.get('token') ?? undefined,
    url: `${stripped.pathname}${stripped.search}`,
  };
}
