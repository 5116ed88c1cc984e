// Does anything answer at a gateway URL? One TCP connect, so a command given a wrong URL can say
// so in one line (conformance) or warn up front (inspect, proxy) instead of failing row by row.
import { connect } from 'node:net';
import { redactTokens } from '../protocol/credentials.js';

/** How long the probe waits for a TCP answer. */
const PROBE_MS = 3000;

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'the host name did not resolve',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** Resolve with why nothing answers at `url`'s host and port, or null when something does. */
export function unreachable(url: string): Promise<string | null> {
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol === 'wss:' || parsed.protocol === 'https:' ? 443 : 80));
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reason: string | null): void => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(PROBE_MS, () => done(`no answer within ${PROBE_MS} ms`));
    socket.once('connect', () => done(null));
    socket.once('error', (error: NodeJS.ErrnoException) => done(REASONS[error.code ?? ''] ?? error.message));
  });
}

/** The one line a command prints for an unreachable gateway: what happened and what to do. */
export function unreachableLine(url: string, reason: string): string {
  return `nothing answers at ${redactTokens(url)} (${reason}). Start the gateway there, or check the host and port.`;
}
