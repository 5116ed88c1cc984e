// The address a connection is charged to (rate limit, sockets and sessions per address, logs).
// Behind a load balancer every socket comes from the balancer, so all users would share one
// budget; `trustedProxies` names the balancers whose `X-Forwarded-For` header is believed.
// Only those: a header from anyone else is ignored, or a client could pick its own address.
import { BlockList, isIP } from 'node:net';
import { GatewayError } from './errors.js';

/** Hops of `X-Forwarded-For` read at most, so a huge header costs bounded work. */
export const MAX_FORWARDED_HOPS = 32;

/** Matches the proxies whose `X-Forwarded-For` is believed. */
export interface TrustedProxies {
  has(address: string): boolean;
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is `10.0.0.1`. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * Parse `trustedProxies`: addresses (`10.0.0.7`, `::1`) and CIDR ranges (`10.0.0.0/8`, `fd00::/8`).
 * Throws a `configuration_error` naming the first entry that is neither.
 */
export function parseTrustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits, extra] = String(entry).trim().split('/');
    const family = isIP(address);
    const prefix = Number(bits);
    const maxBits = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (bits !== undefined && (!/^\d+$/.test(bits) || prefix > maxBits))) {
      throw new GatewayError('configuration_error', `trustedProxies entries must be IP addresses or CIDR ranges such as 10.0.0.0/8, got "${String(entry)}"`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, prefix, type);
  }
  return {
    has(address) {
      const ip = plain(address);
      const family = isIP(ip);
      return family !== 0 && list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** One `X-Forwarded-For` hop as an address, or undefined when it is not one (`unknown`, junk). */
function hopAddress(hop: string): string | undefined {
  let text = hop.trim();
  // Some proxies add the port: `1.2.3.4:5678` or `[2001:db8::1]:443`.
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed?.[1] !== undefined) text = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(text)) text = text.slice(0, text.indexOf(':'));
  return isIP(text) === 0 ? undefined : plain(text);
}

/**
 * The client's address: the peer itself, unless the peer is a trusted proxy. Then
 * `X-Forwarded-For` is read right to left (each proxy appends the address it saw), skipping
 * trusted proxies; the first other address is the client. A hop that is not an address stops the
 * walk at the last trusted proxy, so junk never becomes an identity of its own.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trusted: TrustedProxies | undefined): string {
  if (peer === undefined) return 'unknown';
  let address = plain(peer);
  if (!trusted || forwardedFor === undefined || !trusted.has(address)) return address;
  const hops = forwardedFor.split(',').slice(-MAX_FORWARDED_HOPS);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i] ?? '');
    if (hop === undefined) return address;
    address = hop;
    if (!trusted.has(hop)) return hop;
  }
  return address;
}
