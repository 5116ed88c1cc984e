// Where a token travels, and how it is kept out of every message and log line. Section 1 lets a
// gateway read the token from `hello.token` or from `?token=` on the URL; PraisonAI's gateway
// reads only the URL, at its one WebSocket path `/ws`. The HTTP binding also reads an
// `Authorization: Bearer` header. Shared by the client, the gateway's logs, the CLI and the
// conformance kit, so all of them place and hide a token the same way.

/** What stands in for a secret in messages and logs. */
export const REDACTED = '[redacted]';

/** Whether `url` has a `token` query parameter. */
export function hasUrlToken(url: string): boolean {
  const query = url.split('#')[0]?.split('?')[1];
  return query !== undefined && new URLSearchParams(query).has('token');
}

/**
 * `url` with `token=<token>` appended to its query (percent-encoded as `encodeURIComponent`
 * does; the rest of the URL is left byte for byte), unless it has a `token` parameter already:
 * the app's own choice wins. An undefined token leaves the URL as it is.
 */
export function withUrlToken(url: string, token: string | undefined): string {
  if (token === undefined || hasUrlToken(url)) return url;
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  const joiner = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${joiner}token=${encodeURIComponent(token)}${hash < 0 ? '' : url.slice(hash)}`;
}

/**
 * Whether a URL leads to a PraisonAI-style endpoint, which reads the token only from `?token=`:
 * its path ends in the segment `ws` (`/ws`, or `/…/ws` behind a proxy that adds a prefix).
 */
export function readsUrlToken(url: string): boolean {
  try {
    return /(^|\/)ws\/?$/.test(new URL(url).pathname);
  } catch {
    return false;
  }
}

/**
 * Where one attempt's token went: over a WebSocket `hello.token`, over HTTP the
 * `Authorization: Bearer` header; and `?token=` too on a `/ws` URL.
 */
export interface TokenPlacement {
  /** The URL to open. */
  readonly url: string;
  /** A token went in `hello.token` (the `token` option gave one, over a WebSocket). */
  readonly inHello: boolean;
  /** A token went in an `Authorization: Bearer` header (the `token` option gave one, over HTTP). */
  readonly inHeader: boolean;
  /** `added`: this client put it in `?token=`; `given`: the URL came with its own `?token=`; `none`. */
  readonly inUrl: 'added' | 'given' | 'none';
}

/**
 * The client's rule: the token goes in `hello.token` over a WebSocket and in an
 * `Authorization: Bearer` header over HTTP, whose hello travels in the stream's URL (either way it
 * stays out of URLs that proxies log); and also in `?token=` when the URL's path ends in `/ws`,
 * since PraisonAI's gateway reads it only there. A URL that already carries `?token=` is opened as given.
 */
export function placeToken(url: string, token: string | undefined, transport: 'websocket' | 'http' = 'websocket'): TokenPlacement {
  const has = token !== undefined;
  const where = { inHello: has && transport === 'websocket', inHeader: has && transport === 'http' };
  if (hasUrlToken(url)) return { url, ...where, inUrl: 'given' };
  if (has && readsUrlToken(url)) return { url: withUrlToken(url, token), ...where, inUrl: 'added' };
  return { url, ...where, inUrl: 'none' };
}

/** What a client says after `auth_required`: where it sent a token, and what to do next. */
export function authRequiredHint(placement: TokenPlacement): string {
  const { inHello, inHeader, inUrl } = placement;
  if (inHeader) {
    return inUrl === 'none'
      ? 'This client sent the token in an Authorization: Bearer header (the HTTP transport), so the gateway or a proxy in between did not take it: check that a proxy passes the Authorization header, or add ?token= to the URL.'
      : 'This client sent a token in an Authorization: Bearer header and as ?token= on the URL, so the gateway has it and refused it: check the token.';
  }
  if (inHello && inUrl !== 'none') return 'This client sent a token in hello.token and as ?token= on the URL, so the gateway has it and refused it: check the token.';
  if (inHello) {
    return 'This client sent the token in hello.token only (the URL\'s path does not end in /ws, so not as ?token=). A gateway that reads it only from the URL, as PraisonAI\'s does, needs ?token=: connect to its /ws path, or add ?token= to the URL.';
  }
  if (inUrl === 'given') return 'This client sent no hello.token; the URL\'s own ?token= was refused or not read: check it, or pass the token option.';
  return 'This client sent no token: pass the token option (sent in hello.token, and as ?token= too when the URL\'s path ends in /ws, as PraisonAI\'s does).';
}

// A `token` query value, up to the next parameter, fragment or space; punctuation that ends a
// sentence ("…?token=abc: refused") is left to the sentence.
const TOKEN_VALUE = /([?&]token=)(?:[^&#\s"'<>.,;:)]|[.,;:)](?!\s|$))*/gi;

/**
 * Text safe to show or log: the value of every `token` query parameter and any password in a
 * URL's user info become `[redacted]`. For URLs and messages that may quote one.
 */
export function redactTokens(text: string): string {
  return text
    .replace(TOKEN_VALUE, `$1${REDACTED}`)
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/?#@\s:]*:)[^/?#@\s]*@/gi, `$1${REDACTED}@`);
}

/**
 * Text safe to show or log: every occurrence of `secret` (raw and URL-encoded) is replaced. For
 * messages we do not write ourselves (a runtime's error, a token verifier's), which may quote it.
 */
export function scrubSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  let out = text.split(secret).join(REDACTED);
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) out = out.split(encoded).join(REDACTED);
  return out;
}
