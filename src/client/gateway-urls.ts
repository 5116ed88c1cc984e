// Which gateway node each connection attempt goes to: one URL, a list tried in turn, or an app
// function asked before every attempt. A fleet behind no load balancer (or one being rolled) then
// needs no code of the app's: a failed attempt or a drain moves the client to the next node.
import { connectError } from './errors.js';

/** What the client knows when it picks the URL for the next attempt. */
export interface GatewayUrlContext {
  /** Consecutive failed attempts so far (`info.attempt`); 0 for a first or stable connection. */
  readonly attempt: number;
  /** The URL of the previous attempt, or null before the first. */
  readonly previousUrl: string | null;
  /** How the previous connection ended, or null before the first attempt. */
  readonly lastClose: { readonly code: number; readonly reason: string } | null;
  /** True when the previous node drained (a planned restart): not a failure, but move on. */
  readonly drain: boolean;
}

/**
 * Where the gateway is. A list is tried in turn: every attempt after the first goes to the next
 * URL (after a failure, a drop or a drain), wrapping around, except the rejoin that moves a client
 * back to its preferred transport, which stays on its node. Each URL of a list keeps its own
 * transport (the chart's `node` and `nodes`). A function is called before every attempt
 * and returns the URL to use; a throw fails that attempt like a refused connection.
 */
export type GatewayUrl = string | readonly string[] | ((context: GatewayUrlContext) => string);

/**
 * `http://` becomes `ws://` and `https://` becomes `wss://`, as the WHATWG WebSocket constructor
 * does in current browsers; anything else is used as given.
 */
export function gatewayUrl(url: string): string {
  // Lower case, so `HTTPS://x` shows as `wss://x` in `info.url` (not `wsS://x`).
  return url.replace(/^http(s?):/i, (_match, s: string) => `ws${s.toLowerCase()}:`);
}

/** `ws://` becomes `http://` and `wss://` becomes `https://`: where the HTTP transport finds the same gateway. */
export function httpUrl(url: string): string {
  return url.replace(/^ws(s?):/i, (_match, s: string) => `http${s.toLowerCase()}:`);
}

/** The problem with one URL, or null when it is an absolute ws(s) or http(s) URL. */
export function urlProblem(url: unknown, name = 'url'): string | null {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return `${name} must be an absolute ws://, wss://, http:// or https:// URL; got ${JSON.stringify(url)}.`;
  }
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(parsed.protocol)) {
    return `${name} must use ws:, wss:, http: or https: (http(s) is used as ws(s), as browsers do); got ${parsed.protocol}`;
  }
  return typeof url === 'string' ? null : `${name} must be a string.`;
}

/** The problem with the `url` option, or null. */
export function gatewayUrlProblem(source: unknown): string | null {
  if (typeof source === 'function') return null;
  if (Array.isArray(source)) {
    if (source.length === 0) return 'url must not be an empty list.';
    for (const [i, url] of source.entries()) {
      const problem = urlProblem(url, `url[${i}]`);
      if (problem !== null) return problem;
    }
    return null;
  }
  return urlProblem(source);
}

/** Picks the URL of each attempt and remembers it for `info.url`. */
export interface UrlPicker {
  /**
   * The URL for the next attempt: the `node`th of a list (the chart goes round it), else the one
   * URL or the app function's answer; throws `connect_failed` when an app function fails.
   */
  next(context: Omit<GatewayUrlContext, 'previousUrl'>, node: number): string;
  /** The URL of the current (or last) attempt, or null before the first. */
  readonly current: string | null;
}

// A class, not a closure per method: one per client (bench/README.md, memory).
class Picker implements UrlPicker {
  current: string | null = null;

  constructor(private readonly source: GatewayUrl) {}

  next(context: Omit<GatewayUrlContext, 'previousUrl'>, node: number): string {
    const source = this.source;
    let url: string;
    if (typeof source === 'string') url = source;
    else if (typeof source === 'function') {
      let picked: unknown;
      try {
        picked = source({ ...context, previousUrl: this.current });
      } catch (error) {
        throw connectError('connect_failed', `The url function failed: ${error instanceof Error ? error.message : String(error)}`, {}, error);
      }
      const problem = urlProblem(picked, 'url()');
      if (problem !== null) throw connectError('connect_failed', problem, {});
      url = picked as string;
    } else {
      url = source[node % source.length] as string;
    }
    this.current = gatewayUrl(url);
    return this.current;
  }
}

/** Create the picker of one client. */
export function createUrlPicker(source: GatewayUrl): UrlPicker {
  return new Picker(source);
}
