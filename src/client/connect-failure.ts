// Why a socket failed, in words a person can act on. Node's `ws` hands over the real cause (a
// refused port, a name that does not resolve, an HTTP answer instead of the 101 upgrade, a TLS
// failure); browsers hide it from the page on purpose, so there the error says so and names the
// close code instead of guessing. The same causes tell whether an attempt reached a server at all.
import { redactTokens } from '../protocol/index.js';
import { connectError, GatewayConnectError } from './errors.js';

type Json = Record<string, unknown>;

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|EPROTO$)/;
const HTTP_ANSWER = /Unexpected server response: (\d{3})/;
/** The HTTP transport's words for a stream request that did not start (http-transport.ts). */
const STREAM_ANSWER = /^The event stream request answered/;
/**
 * Causes that show no server was reached: the TCP connect was refused or could not get through, or
 * the name did not resolve (undici's connect timeout included). Any cause from the `connect` call
 * itself counts too (a reset or a timeout while connecting).
 */
const UNREACHED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/** The Error inside a socket `error` event: ws passes `{error, message}`, a failed constructor throws one. */
function causeOf(event: unknown): { code: string | undefined; message: string } | null {
  const error = event instanceof Error ? event : (event as Json | null)?.['error'];
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : undefined, message: error.message };
  }
  const message = (event as Json | null)?.['message'];
  return typeof message === 'string' && message !== '' ? { code: undefined, message } : null;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(an invalid URL)';
  }
}

/**
 * A URL or a runtime's message as an error may show it: a `?token=` and any password in a URL
 * read `[redacted]` (the rule of `redactTokens`, shared with the Python client and the gateway's logs).
 */
const shown = redactTokens;

/**
 * The `connect_failed` error of an attempt whose socket never opened: the cause (ECONNREFUSED,
 * DNS, HTTP status, TLS, or "hidden by the browser"), what to check, and the close code.
 * `short` is the cause in a few words, used as the close reason the chart records.
 */
export function connectFailure(event: unknown, url: string, closeCode: number): { error: GatewayConnectError; short: string } {
  const cause = causeOf(event);
  const host = hostOf(url);
  url = shown(url);
  const extra = { nextStep: 'wait_then_retry', closeCode } as const;
  const origin = event instanceof Error ? event : (event as Json | null)?.['error'];
  const make = (short: string, message: string) => ({ error: connectError('connect_failed', message, extra, origin), short });
  if (cause === null) {
    return make(
      'cause hidden by the browser',
      `The connection to ${url} failed (close ${closeCode}). The browser does not tell the page why (see its console): check the URL, that the gateway runs, and its TLS certificate. The client retries.`,
    );
  }
  const code = cause.code;
  const message = shown(cause.message);
  if (STREAM_ANSWER.test(message)) {
    return make(
      'no event stream',
      `${message.replace(/\.$/, '')} (${url}): the URL does not lead to a gateway that serves the HTTP transport, or a proxy refused it. Check the host, port and path. The client retries.`,
    );
  }
  const status = HTTP_ANSWER.exec(message)?.[1];
  if (status !== undefined) {
    return make(`HTTP ${status}`, `${url} answered HTTP ${status} instead of upgrading to a WebSocket (101): the URL does not lead to a Lifeline gateway. Check the host, port and path. The client retries.`);
  }
  switch (code) {
    case 'ECONNREFUSED':
      return make('ECONNREFUSED', `Nothing accepts connections at ${host} (ECONNREFUSED): is the gateway running, and is the port right? The client retries.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make(code, `The host name in ${url} does not resolve (${code}): check the URL's host. The client retries.`);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ECONNRESET':
      return make(code, `${host} could not be reached (${code}): check the network and any proxy or firewall in between. The client retries.`);
    default:
      if (code !== undefined && TLS_CODE.test(code)) {
        return make(code, `The TLS handshake with ${host} failed (${code}: ${message}): check the certificate, or use ws:// if the gateway does not serve TLS. The client retries.`);
      }
      return make(code ?? message.slice(0, 64), `Could not connect to ${url}: ${message}. The client retries.`);
  }
}

/**
 * Whether a failed connection reached a server, from the cause its runtime gave (a ws error event,
 * an Error, or fetch's cause): false for a connect refused, unreachable or unresolved (the gateway
 * or the network is down; each of several addresses tried, for an AggregateError); true for
 * anything else, an HTTP answer or a close after TCP connected included, and when the cause is
 * hidden (browsers), where no better guess exists.
 */
export function reachedServer(event: unknown): boolean {
  const error = event instanceof Error ? event : (event as Json | null)?.['error'];
  if (!(error instanceof Error)) return true;
  const { code, syscall, errors } = error as Error & { code?: unknown; syscall?: unknown; errors?: unknown };
  if ((typeof code === 'string' && UNREACHED.has(code)) || syscall === 'connect' || syscall === 'getaddrinfo') return false;
  return !(Array.isArray(errors) && errors.length > 0 && errors.every((inner) => !reachedServer(inner)));
}

/** The `connection_lost` error of an open socket that failed with a cause (e.g. ECONNRESET): kept in `info.lastError`. */
export function connectionLost(event: unknown, closeCode: number): GatewayConnectError | null {
  // A transport that knows why (the HTTP transport's POST that failed) says so itself.
  if (event instanceof GatewayConnectError) return event;
  const cause = causeOf(event);
  if (cause === null) return null;
  const origin = event instanceof Error ? event : (event as Json | null)?.['error'];
  return connectError('connection_lost', `The connection dropped (${cause.code ?? cause.message}).`, { closeCode }, origin);
}
