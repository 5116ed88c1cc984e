// What the gateway learns from the HTTP request that opens a connection, for a WebSocket upgrade
// and for an HTTP-binding stream alike: the peer, its Origin, its URL and its bearer token.
import type { IncomingMessage } from 'node:http';
import type { UpgradeInfo } from './transport.js';

/** The token of an `Authorization: Bearer <token>` header (RFC 6750), or undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer +([^\s]+) *$/i.exec(header);
  return match?.[1];
}

/** The {@link UpgradeInfo} of a request; `url` replaces the request's own (to leave out a part). */
export function upgradeInfo(req: IncomingMessage, transport: 'websocket' | 'http', url = req.url): UpgradeInfo {
  const forwardedFor = req.headers['x-forwarded-for'];
  return {
    remoteAddress: req.socket.remoteAddress,
    origin: req.headers.origin,
    url,
    forwardedFor: Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor,
    token: bearerToken(req),
    transport,
  };
}
