// Which node and transport each attempt uses, as pure functions of the chart's context. Every node
// of the `url` list keeps its own transport: it starts on the first transport of the list and
// moves to the next after attempts on it that reached a server and never opened. A client joined
// over another transport probes the preferred one on a bounded, doubling schedule and moves back
// when it opens. No clock here: the chart's named delay `transportRetry` keeps the time.

/** A way to reach a gateway: a WebSocket, or HTTP (Server-Sent Events down, POST up). */
export type TransportName = 'websocket' | 'http';

/** Every transport the client knows, in the default order of preference. */
export const TRANSPORT_NAMES: readonly TransportName[] = Object.freeze(['websocket', 'http'] as const);

/** The default `transports` option: WebSocket first, HTTP when a WebSocket cannot open. */
export const DEFAULT_TRANSPORTS: readonly TransportName[] = TRANSPORT_NAMES;

/**
 * Attempts in a row on one node that never opened though the path answered (an upgrade refused
 * with an HTTP status, a close after TCP connected but before open, no open within
 * `handshakeTimeoutMs`) before that node's next attempt uses the next transport. Two, so one
 * unlucky attempt does not move a node off the preferred transport. A connect that reached no
 * server (refused, unreachable: the gateway or the network is down) is not counted: it says
 * nothing about the transport.
 */
export const FALLBACK_AFTER_FAILURES = 2;

/**
 * When a client joined over another transport probes the preferred (first) one: `initialMs` (60 s)
 * after the join, then, each time the probe (or an attempt over it) fails, after twice the previous
 * wait, up to `maxMs` (10 min). A join over the preferred transport resets the schedule.
 */
export const TRANSPORT_RETRY = Object.freeze({ initialMs: 60_000, maxMs: 600_000 });

/** The retry's doublings stop here (`initialMs * 2^n` has passed `maxMs`), so the chart's state space stays finite. */
const MAX_RETRY_STEP = Math.ceil(Math.log2(TRANSPORT_RETRY.maxMs / TRANSPORT_RETRY.initialMs));

/**
 * The retry of the preferred transport while on another: `idle` (on the preferred, or not yet
 * joined); `waiting` (joined over another; its clock runs); `due` (the wait is over: a joined
 * client probes the preferred transport now, and the next attempt tries it); `upgrade` (the probe
 * opened: the next attempt rejoins the same node over the preferred transport).
 */
export type TransportRetryPhase = 'idle' | 'waiting' | 'due' | 'upgrade';

/** One node's transport: the one its attempts use, and its run of attempts that never opened. */
export interface NodeTransport {
  readonly transport: TransportName;
  readonly failures: number;
}

/** The transport fields of the chart's context. */
export interface TransportContext {
  /** The transport of the current attempt (or the next, between attempts): `info.transport`. */
  readonly transport: TransportName;
  /** The `transports` option: the order of preference; the first is preferred. */
  readonly transports: readonly TransportName[];
  /** Attempts in a row on `transport` to the current node that never opened. */
  readonly transportFailures: number;
  readonly transportRetry: TransportRetryPhase;
  /** Retries of the preferred transport since it last joined (capped): the exponent of the next wait. */
  readonly transportRetries: number;
  /** The node of the current (or last) attempt: its index in the `url` list; 0 for one URL or a url function. */
  readonly node: number;
  /**
   * Each node's transport as the client left it, one entry per URL of the list (so bounded by it);
   * the current node's live values are `transport` and `transportFailures`.
   */
  readonly nodeTransports: readonly NodeTransport[];
}

/** The preferred transport: the first of the list. */
export function preferredTransport(c: Pick<TransportContext, 'transports' | 'transport'>): TransportName {
  return c.transports[0] ?? c.transport;
}

/** The transport fields of a new chart for the `transports` option and a `url` list of `nodes` URLs. */
export function initialTransportContext(transports: readonly TransportName[] = DEFAULT_TRANSPORTS, nodes = 1): TransportContext {
  const transport = transports[0] ?? 'websocket';
  const count = Math.max(1, Math.floor(nodes));
  return {
    transport,
    transports,
    transportFailures: 0,
    transportRetry: 'idle',
    transportRetries: 0,
    // The last node, so the first attempt moves on to node 0.
    node: count - 1,
    nodeTransports: Array.from({ length: count }, () => ({ transport, failures: 0 })),
  };
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

/**
 * Before an attempt, as the URL list is tried in turn: keep the current node's transport, and take
 * up the next node's. An upgrade stays on its node (the probe opened there).
 */
export function moveToNextNode(c: TransportContext): Partial<TransportContext> {
  if (c.transportRetry === 'upgrade' || c.nodeTransports.length < 2) return {};
  const kept = c.nodeTransports.map((n, i) => (i === c.node ? { transport: c.transport, failures: c.transportFailures } : n));
  const node = (c.node + 1) % kept.length;
  const next = kept[node] ?? { transport: c.transport, failures: 0 };
  return { node, nodeTransports: kept, transport: next.transport, transportFailures: next.failures };
}

/** Before an attempt: when the retry is due (or the probe opened), try the preferred transport, falling back after one failure. */
export function beforeAttempt(c: TransportContext): Partial<TransportContext> {
  if (c.transportRetry === 'idle' || c.transportRetry === 'waiting') return {};
  if (onPreferredTransport(c)) return { transportRetry: 'idle' };
  return {
    transport: preferredTransport(c),
    transportFailures: FALLBACK_AFTER_FAILURES - 1,
    transportRetry: 'idle',
    transportRetries: Math.min(c.transportRetries + 1, MAX_RETRY_STEP),
  };
}

/** The probe of the preferred transport failed: stay, and wait twice as long before the next. */
export function afterProbeFailed(c: TransportContext): Pick<TransportContext, 'transportRetry' | 'transportRetries'> {
  return { transportRetry: 'waiting', transportRetries: Math.min(c.transportRetries + 1, MAX_RETRY_STEP) };
}

/** Whether a joined client probes the preferred transport now: its retry is due and it is on another. */
export function shouldProbe(c: TransportContext): boolean {
  return c.transportRetry === 'due' && !onPreferredTransport(c);
}

/** Whether `c.transport` is the preferred one. */
export function onPreferredTransport(c: TransportContext): boolean {
  return c.transport === preferredTransport(c);
}
