// Cross-origin access to the HTTP binding, through the gateway's `allowedOrigins`: a page on an
// allowed origin (any origin when the list is not set) may open the stream, read its connection
// id and POST frames; any other origin is refused with 403 and gets no CORS header at all.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONNECTION_HEADER } from '../../protocol/sse.js';

/** What the browser may cache a preflight for, in seconds. */
const PREFLIGHT_MAX_AGE_S = 600;

/** The CORS decision for one request. */
export type CorsVerdict =
  /** Not a cross-origin browser request (no Origin header): nothing to add. */
  | { readonly kind: 'none' }
  | { readonly kind: 'allowed'; readonly headers: Readonly<Record<string, string>> }
  | { readonly kind: 'refused' };

/** Decide a request's CORS headers by its Origin. */
export function corsFor(req: IncomingMessage, allowedOrigins: ReadonlySet<string> | undefined): CorsVerdict {
  const origin = req.headers.origin;
  if (origin === undefined) return { kind: 'none' };
  if (allowedOrigins && !allowedOrigins.has(origin)) return { kind: 'refused' };
  return {
    kind: 'allowed',
    headers: { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': CONNECTION_HEADER },
  };
}

/** The headers to answer with: none for a refused origin. */
export function corsHeaders(verdict: CorsVerdict): Readonly<Record<string, string>> {
  return verdict.kind === 'allowed' ? verdict.headers : {};
}

/**
 * Answer a preflight (`OPTIONS`): 204 with what the binding's requests use (POST with a bearer
 * token, a stream that resumes by Last-Event-ID), or 403 for an origin that is not allowed.
 */
export function answerPreflight(res: ServerResponse, verdict: CorsVerdict): void {
  if (verdict.kind === 'refused') {
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('This Origin is not allowed.\n');
    return;
  }
  res
    .writeHead(204, {
      ...corsHeaders(verdict),
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'Authorization, Content-Type, Last-Event-ID',
      'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
    })
    .end();
}
