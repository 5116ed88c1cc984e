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

/** The transports to use, in order of preference (the chart's static `options.transports`). */
export interface TransportOptions {
  /** The `transports` option: the order of preference; the first is preferred. */
  readonly transports: readonly TransportName[];
}

/** The transport fields of the chart's context (and the static options they read). */
export interface TransportContext {
  readonly options: TransportOptions;
  /** The node of the current (or last) attempt: its index in the `url` list; 0 for one URL or a url function. */
  readonly node: number;
  /**
   * Each node's transport, one entry per URL of the list (so bounded by it): `nodes[node]` is the
   * current attempt's (`info.transport`), and the others are as the client left them.
   */
  readonly nodes: readonly NodeTransport[];
  readonly transportRetry: TransportRetryPhase;
  /** Retries of the preferred transport since it last joined (capped): the exponent of the next wait. */
  readonly transportRetries: number;
}

/** The per-client transport fields: everything in `TransportContext` but the options. */
export type TransportState = Omit<TransportContext, 'options'>;

/** A node on the first default transport with no failures: shared, frozen. */
const FALLBACK_NODE: NodeTransport = Object.freeze({ transport: 'websocket', failures: 0 });
/** One URL, starting on the WebSocket (the default): every such chart starts with this array (replaced on change, never changed). */
const ONE_DEFAULT_NODE: readonly NodeTransport[] = Object.freeze([FALLBACK_NODE]);

/** The current node's transport and its run of failures (the first node's before any attempt). */
export function currentNode(c: Pick<TransportContext, 'node' | 'nodes'>): NodeTransport {
  return c.nodes[c.node] ?? c.nodes[0] ?? FALLBACK_NODE;
}

/** The transport of the current attempt (or the next, between attempts): `info.transport`. */
export function currentTransport(c: Pick<TransportContext, 'node' | 'nodes'>): TransportName {
  return currentNode(c).transport;
}

/** The preferred transport: the first of the list. */
export function preferredTransport(c: TransportContext): TransportName {
  return c.options.transports[0] ?? currentTransport(c);
}

/** `nodes` with the current node's entry replaced (a new array: context is never changed in place). */
function withCurrent(c: Pick<TransportContext, 'node' | 'nodes'>, entry: NodeTransport): readonly NodeTransport[] {
  return c.nodes.map((n, i) => (i === c.node ? entry : n));
}

/** The transport fields of a new chart for the `transports` option and a `url` list of `nodes` URLs. */
export function initialTransportState(transports: readonly TransportName[] = DEFAULT_TRANSPORTS, nodes = 1): TransportState {
  const transport = transports[0] ?? 'websocket';
  const count = Math.max(1, Math.floor(nodes));
  return {
    // The last node, so the first attempt moves on to node 0.
    node: count - 1,
    nodes: count === 1 && transport === FALLBACK_NODE.transport ? ONE_DEFAULT_NODE : Array.from({ length: count }, () => ({ transport, failures: 0 })),
    transportRetry: 'idle',
    transportRetries: 0,
  };
}

/** The wait before retrying the preferred transport, after `retries` retries that did not join. */
export function transportRetryDelay(retries: number): number {
  return Math.min(TRANSPORT_RETRY.maxMs, TRANSPORT_RETRY.initialMs * 2 ** Math.min(retries, MAX_RETRY_STEP));
}

/** One more attempt that never opened; past the threshold, the next transport in the list (wrapping round). */
export function afterFailureBeforeOpen(c: TransportContext): Pick<TransportContext, 'nodes'> {
  const { transport, failures: before } = currentNode(c);
  const { transports } = c.options;
  const failures = before + 1;
  if (failures < FALLBACK_AFTER_FAILURES || transports.length < 2) return { nodes: withCurrent(c, { transport, failures }) };
  const next = transports[(transports.indexOf(transport) + 1) % transports.length] ?? transport;
  return { nodes: withCurrent(c, { transport: next, failures: 0 }) };
}

/** The connection opened: the transport works, so the current node's run of failures ends. */
export function afterOpen(c: TransportContext): Partial<TransportState> {
  const node = currentNode(c);
  return node.failures === 0 ? {} : { nodes: withCurrent(c, { transport: node.transport, failures: 0 }) };
}

/**
 * Before an attempt, as the URL list is tried in turn: the next node, with the transport it had.
 * An upgrade stays on its node (the probe opened there).
 */
export function moveToNextNode(c: TransportContext): Partial<TransportState> {
  if (c.transportRetry === 'upgrade' || c.nodes.length < 2) return {};
  return { node: (c.node + 1) % c.nodes.length };
}

/** Before an attempt: when the retry is due (or the probe opened), try the preferred transport, falling back after one failure. */
export function beforeAttempt(c: TransportContext): Partial<TransportState> {
  if (c.transportRetry === 'idle' || c.transportRetry === 'waiting') return {};
  if (onPreferredTransport(c)) return { transportRetry: 'idle' };
  return {
    nodes: withCurrent(c, { transport: preferredTransport(c), failures: FALLBACK_AFTER_FAILURES - 1 }),
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

/** Whether the current transport is the preferred one. */
export function onPreferredTransport(c: TransportContext): boolean {
  return currentTransport(c) === preferredTransport(c);
}
