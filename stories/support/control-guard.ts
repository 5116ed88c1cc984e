// Who may use a local control endpoint (`agent-lifeline proxy`'s, `start`'s and `inspect`'s):
// listening on 127.0.0.1 keeps other machines out, but not the web pages open in the user's own
// browser. A page from another origin can POST without CORS (`mode: 'no-cors'`, text/plain), and
// a DNS-rebinding page can even read the answers. So every control request must carry this run's
// key (random, printed in the URL the command shows), come with a Host that names this server
// (never a domain that merely resolves here), and come from no other web origin.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONTROL_KEY_HEADER, CONTROL_KEY_PARAM } from './control-names.js';

export { CONTROL_KEY_HEADER, CONTROL_KEY_PARAM };

/** A fresh key: 192 random bits, URL-safe. */
export function newControlKey(): string {
  return randomBytes(24).toString('base64url');
}

/** Why a request was refused, as the 403 body says it. */
export interface Refusal {
  readonly code: 'forbidden_host' | 'forbidden_origin' | 'control_key_required';
  readonly message: string;
  readonly nextStep: string;
}

/** The checks of one endpoint, bound to its key and its address. */
export interface ControlGuard {
  /** This run's key. */
  readonly key: string;
  /**
   * Why `req` may not reach this server at all (a Host that is not this server's), or null. For
   * every request, the static page's too; a link from another site may still open the page.
   */
  refuseHost(req: IncomingMessage): Refusal | null;
  /** {@link refuseHost}, then another web origin, then the key: why `req` may not use a control route, or null. */
  refuseControl(req: IncomingMessage): Refusal | null;
}

/** Options for {@link createControlGuard}. */
export interface ControlGuardOptions {
  /** The key to require. @default a fresh {@link newControlKey} */
  readonly key?: string;
  /** The host the server listens on, as given (`127.0.0.1`, `localhost`, `::1`, a name). */
  readonly host: string;
  /** The port it listens on, once known (the server may have been given port 0). */
  readonly port: () => number;
}

/**
 * A Host (or an Origin's host) that names this server: `localhost`, an IP address, or the host it
 * was told to listen on, with its port. Never any other name: that is what DNS rebinding uses.
 */
function namesThisServer(hostAndPort: string, listenHost: string, port: number): boolean {
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d+))?$/.exec(hostAndPort);
  if (!match) return false;
  const name = (match[1] ?? '').toLowerCase();
  const bare = name.replace(/^\[|\]$/g, '');
  if ((match[2] === undefined ? 80 : Number(match[2])) !== port) return false;
  return name === 'localhost' || isIP(bare) !== 0 || bare === listenHost.toLowerCase().replace(/^\[|\]$/g, '');
}

/** The key a request carries: header, bearer token, or `?key=`. */
function presentedKey(req: IncomingMessage): string | undefined {
  const header = req.headers[CONTROL_KEY_HEADER.toLowerCase()];
  if (typeof header === 'string') return header.trim();
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer !== undefined) return bearer;
  const query = (req.url ?? '').indexOf('?');
  return query < 0 ? undefined : (new URLSearchParams((req.url ?? '').slice(query + 1)).get(CONTROL_KEY_PARAM) ?? undefined);
}

function sameKey(given: string, key: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Create the checks for one endpoint. */
export function createControlGuard(options: ControlGuardOptions): ControlGuard {
  const key = options.key ?? newControlKey();
  const refuseHost = (req: IncomingMessage): Refusal | null => {
    const host = req.headers.host ?? '';
    if (namesThisServer(host, options.host, options.port())) return null;
    return {
      code: 'forbidden_host',
      message: `This local server answers only to its own address, not to Host "${host}".`,
      nextStep: `Use http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port()}/ as agent-lifeline printed it.`,
    };
  };
  const refuseOrigin = (req: IncomingMessage): Refusal | null => {
    const origin = req.headers.origin;
    // Sec-Fetch-Site covers a browser that leaves Origin off a cross-site request.
    const site = req.headers['sec-fetch-site'];
    const ours = origin === undefined || (origin.startsWith('http://') && namesThisServer(origin.slice('http://'.length), options.host, options.port()));
    if (ours && site !== 'cross-site' && site !== 'same-site') return null;
    return {
      code: 'forbidden_origin',
      message: `Requests from other web pages (${origin ?? `Sec-Fetch-Site: ${site ?? ''}`}) are refused.`,
      nextStep: 'Control this server from its own page, or from a terminal (curl, agent-lifeline).',
    };
  };
  return {
    key,
    refuseHost,
    refuseControl(req) {
      const refused = refuseHost(req) ?? refuseOrigin(req);
      if (refused) return refused;
      const given = presentedKey(req);
      if (given !== undefined && sameKey(given, key)) return null;
      return {
        code: 'control_key_required',
        message: given === undefined ? 'This endpoint needs the key agent-lifeline printed.' : 'This is not the key of this run (the server may have restarted with a new one).',
        nextStep: `Open the URL agent-lifeline printed (it ends in ?${CONTROL_KEY_PARAM}=…), or send the key in an ${CONTROL_KEY_HEADER} header.`,
      };
    },
  };
}

/** Answer a refused request: 403 with the refusal as JSON. */
export function sendRefusal(res: ServerResponse, refusal: Refusal): void {
  res.writeHead(403, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(`${JSON.stringify(refusal)}\n`);
}
