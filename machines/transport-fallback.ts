// Which transport each attempt uses, as pure functions of the chart's context: the client starts
// on the first transport of its list, moves to the next after attempts that never opened, and
// goes back to the first on a bounded, doubling schedule once it has joined over another.
// No clock here: the chart's named delay `transportRetry` keeps the time.

/** A way to reach a gateway: a WebSocket, or HTTP (Server-Sent Events down, POST up). */
export type TransportName = 'websocket' | 'http';

/** Every transport the client knows, in the default order of preference. */
export const TRANSPORT_NAMES: readonly TransportName[] = Object.freeze(['websocket', 'http'] as const);

/** The default `transports` option: WebSocket first, HTTP when a WebSocket cannot open. */
export const DEFAULT_TRANSPORTS: readonly TransportName[] = TRANSPORT_NAMES;

/**
 * Attempts in a row that never opened (a refused upgrade, a close before open, no open within
 * `handshakeTimeoutMs`) before the next one uses the next transport. Two, so one unlucky attempt
 * does not move a client off the preferred transport.
 */
export const FALLBACK_AFTER_FAILURES = 2;

/**
 * When the client goes back to the preferred (first) transport after joining over another: at the
 * first attempt after `initialMs` (60 s), then, each time that retry does not join, after twice the
 * previous wait, up to `maxMs` (10 min). A retry falls back again after one failed attempt (the
 * other transport is known to work). Joining over the preferred transport resets the schedule.
 */
export const TRANSPORT_RETRY = Object.freeze({ initialMs: 60_000, maxMs: 600_000 });

/** The retry's doublings stop here (`initialMs * 2^n` has passed `maxMs`), so the chart's state space stays finite. */
const MAX_RETRY_STEP = Math.ceil(Math.log2(TRANSPORT_RETRY.maxMs / TRANSPORT_RETRY.initialMs));

/**
 * The retry of the preferred transport while on another: `idle` (on the preferred, or not yet
 * joined), `waiting` (joined over another; its clock runs) or `due` (the next attempt tries it).
 */
export type TransportRetryPhase = 'idle' | 'waiting' | 'due';

/** The transport fields of the chart's context. */
export interface TransportContext {
  /** The transport of the current attempt (or the next, between attempts): `info.transport`. */
  readonly transport: TransportName;
  /** The `transports` option: the order of preference; the first is preferred. */
  readonly transports: readonly TransportName[];
  /** Attempts in a row on `transport` that never opened. */
  readonly transportFailures: number;
  readonly transportRetry: TransportRetryPhase;
  /** Retries of the preferred transport since it last joined (capped): the exponent of the next wait. */
  readonly transportRetries: number;
}

/** The transport fields of a new chart for the `transports` option. */
export function initialTransportContext(transports: readonly TransportName[] = DEFAULT_TRANSPORTS): TransportContext {
  return { transport: transports[0] ?? 'websocket', transports, transportFailures: 0, transportRetry: 'idle', transportRetries: 0 };
}

/** The wait before retrying the preferred transport, after `retries` retries that did not join. */
export function transportRetryDelay(retries: number): number {
  return Math.min(TRANSPORT_RETRY.maxMs, TRANSPORT_RETRY.initialMs * 2 ** Math.min(retries, MAX_RETRY_STEP));
}

/** One more attempt that never opened; past the threshold, the next transport in the list (wrapping round). */
export function afterFailureBeforeOpen(c: TransportContext): Pick<TransportContext, 'transport' | 'transportFailures'> {
  const failures = c.transportFailures + 1;
  if (failures < FALLBACK_AFTER_FAILURES || c.transports.length < 2) return { transport: c.transport, transportFailures: failures };
  const next = c.transports[(c.transports.indexOf(c.transport) + 1) % c.transports.length] ?? c.transport;
  return { transport: next, transportFailures: 0 };
}

/** Before an attempt: when the retry is due, try the preferred transport, falling back after one failure. */
export function beforeAttempt(c: TransportContext): Partial<TransportContext> {
  const preferred = c.transports[0] ?? c.transport;
  if (c.transportRetry !== 'due') return {};
  if (c.transport === preferred) return { transportRetry: 'idle' };
  return {
    transport: preferred,
    transportFailures: FALLBACK_AFTER_FAILURES - 1,
    transportRetry: 'idle',
    transportRetries: Math.min(c.transportRetries + 1, MAX_RETRY_STEP),
  };
}

/** Whether `c.transport` is the preferred one. */
export function onPreferredTransport(c: TransportContext): boolean {
  return c.transport === (c.transports[0] ?? c.transport);
}
