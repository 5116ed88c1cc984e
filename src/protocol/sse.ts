// The HTTP binding's stream format (PROTOCOL.md section 9): Server-Sent Events as the WHATWG HTML
// standard defines them, one message per server frame, with `id: <epoch>:<seq>` on frames that
// carry events and a named `close` event for the close a WebSocket would send. Pure: shared by the
// gateway that writes it, and by whatever reads it (a client, the conformance kit, tests).

/** The response header that names a stream's connection id; POSTs send it back as `?connection=`. */
export const CONNECTION_HEADER = 'Lifeline-Connection';

/** The SSE event name of the last message of a stream: `data` is `{"code":C,"reason":"R"}`. */
export const SSE_CLOSE_EVENT = 'close';

/** A close as the stream's `close` event carries it. */
export interface SseClose {
  readonly code: number;
  readonly reason: string;
}

/** One dispatched SSE message. `event` is `message` unless the message named another. */
export interface SseMessage {
  readonly event: string;
  readonly data: string;
  /** The stream's last event id once this message was read (ids persist across messages). */
  readonly lastEventId: string;
  /** Whether this message had an `id` line of its own (a gateway writes one only on frames that carry events). */
  readonly hasId: boolean;
}

/**
 * The SSE id of an event numbered `seq` in `epoch`, or undefined when the epoch holds a character
 * an `id:` line cannot carry (CR, LF, NUL). The seq goes last: epochs may contain `:`.
 */
export function formatEventId(epoch: string, seq: number): string | undefined {
  return /[\r\n\0]/.test(epoch) ? undefined : `${epoch}:${seq}`;
}

/**
 * Read a `Last-Event-ID` (or an SSE `id`) written by {@link formatEventId}: the epoch before the
 * last `:` (non-empty), the seq after it (a whole number, 0 to 2^53 − 2). Undefined otherwise.
 */
export function parseEventId(value: string): { readonly epoch: string; readonly seq: number } | undefined {
  const colon = value.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const digits = value.slice(colon + 1);
  if (!/^\d{1,16}$/.test(digits)) return undefined;
  const seq = Number(digits);
  if (seq > Number.MAX_SAFE_INTEGER - 1) return undefined;
  return { epoch: value.slice(0, colon), seq };
}

/** One SSE message carrying a frame's JSON text (which never holds a raw line break). */
export function sseMessage(text: string, id: string | undefined): string {
  return id === undefined ? `data: ${text}\n\n` : `id: ${id}\ndata: ${text}\n\n`;
}

/** The stream's last message: the close a WebSocket would have sent. */
export function sseCloseMessage(close: SseClose): string {
  return `event: ${SSE_CLOSE_EVENT}\ndata: ${JSON.stringify({ code: close.code, reason: close.reason })}\n\n`;
}

/** The `data` of a `close` event, or undefined when it is not `{code: integer, reason: string}`. */
export function parseSseClose(data: string): SseClose | undefined {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value !== 'object' || value === null) return undefined;
    const { code, reason } = value as { code?: unknown; reason?: unknown };
    if (typeof code !== 'number' || !Number.isInteger(code)) return undefined;
    return { code, reason: typeof reason === 'string' ? reason : '' };
  } catch {
    return undefined;
  }
}

/** What {@link createSseParser} reports. */
export interface SseParserHandlers {
  message(message: SseMessage): void;
  /** A `retry:` field: the reconnect delay the server asks for, in ms. */
  retry?(ms: number): void;
  /** A line or message past `maxMessageChars`: the stream is not to be trusted any further. */
  overflow?(chars: number): void;
}

/** An incremental SSE reader: feed it decoded text as it arrives. */
export interface SseParser {
  push(text: string): void;
}

/**
 * Parse an event stream as the HTML standard's "interpret an event stream" does: lines end in
 * CRLF, LF or CR; `field: value` (one leading space dropped); `data` lines join with LF; an empty
 * line dispatches; `:` starts a comment; an `id` holding NUL is ignored. A message (or a line)
 * longer than `maxMessageChars` is reported to `overflow` and the parser stops.
 */
export function createSseParser(handlers: SseParserHandlers, maxMessageChars = Number.MAX_SAFE_INTEGER): SseParser {
  let pending = '';
  let data: string[] = [];
  let dataChars = 0;
  let event = '';
  let lastEventId = '';
  let hasId = false;
  let stopped = false;
  // A CR at the end of a chunk may be the first half of a CRLF split across chunks.
  let skipLf = false;

  const stop = (chars: number): void => {
    stopped = true;
    pending = '';
    data = [];
    handlers.overflow?.(chars);
  };

  const dispatch = (): void => {
    const kind = event || 'message';
    const ownId = hasId;
    event = '';
    hasId = false;
    if (data.length === 0) return;
    const message = { event: kind, data: data.join('\n'), lastEventId, hasId: ownId };
    data = [];
    dataChars = 0;
    handlers.message(message);
  };

  const line = (text: string): void => {
    if (text === '') return dispatch();
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        dataChars += value.length + 1;
        if (dataChars > maxMessageChars) return stop(dataChars);
        data.push(value);
        return;
      case 'event':
        event = value;
        return;
      case 'id':
        if (value.includes('\0')) return;
        lastEventId = value;
        hasId = true;
        return;
      case 'retry':
        if (/^\d+$/.test(value)) handlers.retry?.(Number(value));
        return;
      default:
        return;
    }
  };

  return {
    push(text) {
      if (stopped) return;
      let start = 0;
      if (skipLf && text.startsWith('\n')) start = 1;
      skipLf = false;
      for (let i = start; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c !== 10 && c !== 13) continue;
        line(pending + text.slice(start, i));
        pending = '';
        if (stopped) return;
        if (c === 13) {
          if (i + 1 === text.length) skipLf = true;
          else if (text.charCodeAt(i + 1) === 10) i++;
        }
        start = i + 1;
      }
      pending += text.slice(start);
      if (pending.length > maxMessageChars) stop(pending.length);
    },
  };
}
