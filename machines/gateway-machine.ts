// The client's lifecycle as one statechart: connecting -> negotiating -> joined (replaying, live)
// -> reconnecting (a probe window after a drop, then backoff, short cap) -> suspended (an outage past `suspendAfterMs`, long cap)
// -> disconnected. Only lifecycle facts are events here; the per-event
// data path (socket -> tracker -> subscribers) never passes through a transition. Which node and
// transport an attempt uses (WebSocket or HTTP) is context, set by actions (transport-fallback.ts):
// the states are the same over every transport. A client joined over a fallback transport probes
// the preferred one with a child actor (`transportProbe`) and rejoins over it when it opens.
//
// Nothing here touches the world. The socket actor, which also runs the heartbeat watchdog while
// joined, and the other actors (their inputs and commands: actor-contracts.ts) and the
// `flushOutbox` action are inert by default, so the chart runs on its own under
// `createActor(gatewayMachine, { input })` and is driven by events; `createGatewayClient` plugs the
// real implementations in with `gatewayMachine.provide(...)`.
//
// The state space stays finite for `xstate/graph`: the counters it explores are bounded by
// `maxAttempts` (`failure.count` only grows, and no guard reads it), the outage's age is a phase
// (not a timestamp), the retry delay is cleared when a new attempt starts, the transport fields
// are names, a phase and capped counters, and no connection config lives in context.
//
// Past 300 lines on purpose: one file shows every state, event and transition (STYLE.md practice 1).
import { assign, enqueueActions, fromCallback, sendTo, setup, spawnChild, stopChild, type EventObject } from 'xstate';
import { classifyClose, closeAsksToWait, CLOSE_CODE_FOR_ERROR, CloseCode, defaultNextStep, isTerminal, type ConnectErrorData } from '../src/protocol/index.js';
import { SOCKET_ACTOR_ID, TRANSPORT_PROBE_ID, type BrowserSignalsInput, type HandshakeMode, type SocketActorInput, type SocketCommand, type TransportProbeInput } from './actor-contracts.js';
import { countsAsFailure, DEFAULT_RECONNECT, planRetry, resolveReconnectOptions, type ReconnectOptions, type ResolvedReconnectOptions, type RetryPlan, type RetryTier } from './backoff.js';
import { afterFailureBeforeOpen, afterOpen, afterProbeFailed, beforeAttempt, currentTransport, DEFAULT_TRANSPORTS, initialTransportState, moveToNextNode, onPreferredTransport, preferredTransport, shouldProbe, transportRetryDelay, type TransportContext, type TransportName, type TransportOptions } from './transport-fallback.js';

/**
 * How old the current outage is. It starts at the first lost connection or failed attempt and
 * ends only on a stable join (or a stop): `none`, `probing` (the first `probeWindowMs` after a
 * joined connection dropped: retries within `initialDelayMs`), `young` (backoff capped by
 * `maxDelayMs`), or `old` (past `suspendAfterMs`: the `suspended` tier, capped by `suspendedMaxDelayMs`).
 */
export type OutagePhase = 'none' | 'probing' | 'young' | 'old';

/**
 * Whether an auth refusal may be answered with one fresh token: `off` (a fixed token), `ready`, or
 * `used` (the refreshed attempt was refused too: the next refusal stops). Ready again after a
 * stable join, so a gateway that accepts and then refuses the token at once cannot make a loop.
 */
export type TokenRefresh = 'off' | 'ready' | 'used';

/** What the chart is started with. Every field is optional. */
export interface GatewayMachineInput {
  /** Reconnect policy, or `false` to stop at the first close. @default {} (see `ReconnectOptions`) */
  readonly reconnect?: ReconnectOptions | false;
  /** Budget for opening the socket, and again for the handshake. @default 10000 */
  readonly handshakeTimeoutMs?: number;
  /** Whether the network is up at start (`navigator.onLine` in browsers). @default true */
  readonly online?: boolean;
  /** Source of jitter in `[0, 1)`. @default Math.random */
  readonly random?: () => number;
  /** The token comes from a function called before each attempt, so an auth refusal is retried once with a fresh one. @default false */
  readonly refreshableToken?: boolean;
  /** The transports to use, in order of preference (validated by the client). @default ['websocket', 'http'] */
  readonly transports?: readonly TransportName[];
  /** How many URLs the `url` option lists, each a node with its own transport (1 for one URL or a url function). @default 1 */
  readonly nodes?: number;
}

/**
 * What ended a failed attempt: the gateway closed it (`closed`), refused the handshake
 * (`refused`) or drained (`draining`), the watchdog presumed the link dead (`heartbeat_missed`),
 * or the chart's own handshake timer ran out (`handshake_timeout`: no open socket, or no answer to
 * `hello`, within `handshakeTimeoutMs`; never a gateway's close, whatever its code or reason).
 */
export type FailureCause = 'closed' | 'refused' | 'draining' | 'heartbeat_missed' | 'handshake_timeout';

/** A failed attempt, as the chart counted it (`GatewayContext.failure`). */
export interface AttemptFailure {
  /** Failures counted since the actor started, this one included. */
  readonly count: number;
  readonly cause: FailureCause;
}

/**
 * What a chart is started with, fixed for its life: one frozen object, shared by every chart
 * started with the default options.
 */
export interface ChartOptions extends TransportOptions {
  readonly reconnect: ResolvedReconnectOptions | false;
  readonly handshakeTimeoutMs: number;
  /** Injected jitter source. A function, so JSON snapshots (inspector, graph) leave it out. */
  readonly random: () => number;
}

/**
 * The most fields the context may have: {@link CONTEXT_FIELD_LIMIT}. XState's `assign` makes each
 * new context with `Object.assign({}, context, update)`, and V8 turns that object into a
 * dictionary (a hash table of 0.8-1.5 KiB per client instead of a 0.1 KiB field array) past 19
 * properties. Related fields go together in one object (`options`, `nodes`) to stay under it.
 */
export const CONTEXT_FIELD_LIMIT = 19;

/**
 * The chart's context: lifecycle facts only, at most {@link CONTEXT_FIELD_LIMIT} fields. The
 * transport fields are described in `TransportContext`.
 */
export interface GatewayContext extends TransportContext {
  readonly options: ChartOptions;
  /** Consecutive failed attempts since the last stable join (reset after `minUptimeMs` joined). */
  readonly attempt: number;
  /** The delay of the pending retry while `reconnecting`, else null. */
  readonly retryInMs: number | null;
  /**
   * What is left of the backoff wait when a probe cut it short (0 otherwise): the next failure
   * waits it out without counting (`planRetry`). Cleared when a connection opens.
   */
  readonly backoffLeftMs: number;
  /** The close (or synthetic close) that last ended a connection. */
  readonly lastClose: { readonly code: number; readonly reason: string } | null;
  /**
   * The last failed attempt the chart counted toward `maxAttempts` (`countFailure`), or null before
   * the first: what ended it, and how many have been counted since the actor started (never reset,
   * unlike `attempt`), so a new `count` is a new failure.
   */
  readonly failure: AttemptFailure | null;
  /** Why the client stopped, when it stopped on its own; null after a user disconnect. */
  readonly error: ConnectErrorData | null;
  readonly handshake: HandshakeMode;
  /** The negotiated protocol version; 0 for the legacy `join` handshake; null before the first join. */
  readonly protocol: number | null;
  /** `policy.heartbeat_ms` from the handshake; 0 disables the watchdog. */
  readonly heartbeatMs: number;
  readonly online: boolean;
  /** The outage's age. A phase rather than a start time: the chart's `outage.aged` timer keeps time. */
  readonly outage: OutagePhase;
  readonly tokenRefresh: TokenRefresh;
}

/** Lifecycle facts. Payloads are small plain values so model-based tests can enumerate them. */
export type GatewayMachineEvent =
  | { type: 'user.connect' }
  | { type: 'user.disconnect' }
  | { type: 'socket.opened' }
  /**
   * `noConnection`: the attempt reached no server: no token or URL to be had, or a connect that was
   * refused or could not get through (the gateway or the network is down, as while a gateway
   * restarts). That says nothing about the transport, so it does not count toward a fallback.
   */
  | { type: 'socket.closed'; code: number; reason: string; noConnection?: true }
  | { type: 'hello.accepted'; protocol: number; heartbeatMs: number }
  | { type: 'hello.rejected'; code: string; message: string; nextStep: string; retryAfterMs?: number }
  /** The gateway answered `hello` with `error`: it only speaks the legacy `join`. */
  | { type: 'hello.unsupported' }
  | { type: 'caught_up' }
  | { type: 'draining'; reconnectAfterMs: number }
  | { type: 'heartbeat.missed' }
  | { type: 'network.online' }
  | { type: 'network.offline' }
  | { type: 'page.visible' }
  /** The probe window is over (`probeWindowMs` since a joined connection dropped): raised by the chart itself. */
  | { type: 'outage.probed' }
  /** The outage clock ran out (`suspendAfterMs` since it started): raised by the chart itself. */
  | { type: 'outage.aged' }
  /** Time to try the preferred transport again (`transportRetry` after joining over another): raised by the chart itself. */
  | { type: 'transport.retry_due' }
  /** The probe opened the preferred transport to the current node (and closed it): rejoin over it. */
  | { type: 'transport.probe_opened' }
  /** The probe was refused, closed before open, or missed its deadline: stay, and wait twice as long. */
  | { type: 'transport.probe_failed' }
  /** An `events()` loop fell `maxBufferedEvents` behind: leave, and rejoin from the cursor once it drains. */
  | { type: 'consumer.overflow' }
  /** Every `events()` loop is back to half the bound. */
  | { type: 'consumer.drained' };

/** The default `handshakeTimeoutMs`. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** The options of a chart started with none given: one object for all of them. */
const DEFAULT_OPTIONS: ChartOptions = Object.freeze({ reconnect: DEFAULT_RECONNECT, handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS, transports: DEFAULT_TRANSPORTS, random: Math.random });

/** The chart's options for `input`: the shared defaults unless an option is given. */
function chartOptionsOf(input: GatewayMachineInput): ChartOptions {
  if (input.reconnect === undefined && input.handshakeTimeoutMs === undefined && input.random === undefined && input.transports === undefined) return DEFAULT_OPTIONS;
  return Object.freeze({
    reconnect: input.reconnect === false ? false : input.reconnect === undefined ? DEFAULT_RECONNECT : resolveReconnectOptions(input.reconnect),
    handshakeTimeoutMs: input.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    transports: input.transports ?? DEFAULT_TRANSPORTS,
    random: input.random ?? Math.random,
  });
}
/** Id of the delayed `outage.aged` event: it outlives the states an outage passes through. */
const OUTAGE_CLOCK = 'outageClock';
/** Id of the delayed `transport.retry_due` event: it runs across reconnects, from a join over a fallback transport. */
const TRANSPORT_CLOCK = 'transportClock';
/** Id of the delayed `outage.probed` event, which ends the probe window. */
const PROBE_CLOCK = 'probeClock';

type Context = GatewayContext;

/** The events a counted failure follows, and what each says ended the attempt. */
const FAILURE_CAUSES: Readonly<Record<string, FailureCause>> = {
  'socket.closed': 'closed',
  'hello.rejected': 'refused',
  draining: 'draining',
  'heartbeat.missed': 'heartbeat_missed',
};

/**
 * The failure `countFailure` records for `event`. The one other event that counts a failure is
 * XState's own for `after: { handshakeTimeout }`, which is the chart's handshake timer.
 */
export function failureOf(context: Context, event: { readonly type: string }): AttemptFailure {
  return { count: (context.failure?.count ?? 0) + 1, cause: FAILURE_CAUSES[event.type] ?? 'handshake_timeout' };
}

/** The close code a refusal is sent with (section 6), or the generic protocol close (4000) for a code without one. */
function closeCodeFor(code: string): number {
  return (CLOSE_CODE_FOR_ERROR as Readonly<Record<string, number | undefined>>)[code] ?? CloseCode.BadFrame;
}

function armedRefresh(context: Context): TokenRefresh {
  return context.tokenRefresh === 'off' ? 'off' : 'ready';
}

function closeOf(code: number, reason: string): Context['lastClose'] {
  return { code, reason };
}

/** The error for a close that ends all attempts: the wire code sent with that close code, if any. */
function errorForClose(code: number, reason: string): ConnectErrorData {
  const wire = Object.entries(CLOSE_CODE_FOR_ERROR).find(([, close]) => close === code)?.[0] ?? 'connection_lost';
  return { code: wire, message: reason || `Closed with ${code}.`, nextStep: defaultNextStep(wire), closeCode: code };
}

/** A wait the gateway asked for: a rejection's `retry_after_seconds` or a drain's hint (both clamped where they are read). */
function serverWaitOf(event: GatewayMachineEvent): number {
  if (event.type === 'hello.rejected') return event.retryAfterMs ?? 0;
  return event.type === 'draining' ? Math.max(0, event.reconnectAfterMs) : 0;
}

function maxAttemptsOf(context: Context): number {
  const { reconnect } = context.options;
  return reconnect === false ? 0 : reconnect.maxAttempts;
}

/** A reconnect option's value (`minUptimeMs`, the outage clocks), or 0 when reconnecting is off. */
function reconnectMs(context: Context, key: 'minUptimeMs' | 'suspendAfterMs' | 'probeWindowMs'): number {
  const { reconnect } = context.options;
  return reconnect === false ? 0 : reconnect[key];
}

/** Failures in a row after this one: a probe that failed (a backoff wait still left) is not counted. */
function attemptAfterFailure(context: Context): number {
  return countsAsFailure(context.backoffLeftMs) ? context.attempt + 1 : context.attempt;
}

/** The schedule a failure follows now: an outage that has not started yet waits as a young one. */
function tierOf(context: Context): RetryTier {
  return context.outage === 'none' ? 'young' : context.outage;
}

/**
 * The wait after the failure that made `attempt` failures in a row (the first failure waits retry
 * 0's delay), in the outage's tier, with the backoff left over from a probe (`planRetry`).
 */
function retryPlanFor(context: Context, attempt: number, floorMs = 0): RetryPlan {
  const { reconnect, random } = context.options;
  if (reconnect === false) return planRetry(attempt, 0, 'young', {}, random, floorMs);
  return planRetry(attempt, context.backoffLeftMs, tierOf(context), reconnect, random, floorMs);
}

type RetryAction = 'terminateSocket' | 'recordClose' | 'recordRejection' | 'recordHandshakeTimeout' | 'recordHeartbeatMiss' | 'recordTransportFailure' | 'countFailure' | 'planBackoff' | 'planPromptRetry' | 'planDrainRetry';
/** What starts an outage: `startOutageClock`, or `startProbing` for a joined connection that dropped. */
type OutageStart = 'startOutageClock' | 'startProbing';

/** Wait for the next attempt: in `suspended` once the outage is old, else in `reconnecting` (which starts the outage clock). */
function retryAfter<const A extends readonly RetryAction[], const S extends OutageStart = 'startOutageClock'>(actions: A, start: S = 'startOutageClock' as S) {
  return [
    { guard: 'outageIsOld', target: 'suspended', actions: [...actions] },
    { target: 'reconnecting', actions: [...actions, start] },
  ] as const;
}

// Before a join every failure counts toward maxAttempts, even a "reconnect now" close, so a
// gateway that accepts and drops cannot make a fast loop. A socket that never opened closes with
// 1006, so no close code can say "stop" while connecting; it also counts toward moving to the
// next transport (`recordTransportFailure`), as does no open within the handshake budget.
const closedWhileConnecting = [
  { guard: 'retriesExhausted', target: 'disconnected', actions: ['recordClose', 'recordRetriesExhausted'] },
  ...retryAfter(['recordClose', 'recordTransportFailure', 'countFailure', 'planBackoff']),
] as const;
// An auth refusal with a token function: try once more, within the first backoff step and
// without counting a failure, with a fresh token (the socket actor calls the function before
// every attempt). A second refusal in a row stops.
const refreshTokenOnce = { guard: 'mayRefreshToken', target: 'reconnecting', actions: ['recordClose', 'refreshToken', 'planPromptRetry', 'startOutageClock'] } as const;
const closedBeforeJoin = [
  refreshTokenOnce,
  { guard: 'isFatalClose', target: 'disconnected', actions: ['recordClose', 'recordFatalClose'] },
  { guard: 'retriesExhausted', target: 'disconnected', actions: ['recordClose', 'recordRetriesExhausted'] },
  ...retryAfter(['recordClose', 'countFailure', 'planBackoff']),
] as const;
const openTimedOut = [
  { guard: 'retriesExhausted', target: 'disconnected', actions: ['recordHandshakeTimeout', 'recordRetriesExhausted'] },
  ...retryAfter(['recordHandshakeTimeout', 'recordTransportFailure', 'countFailure', 'planBackoff']),
] as const;
const handshakeTimedOut = [
  { guard: 'retriesExhausted', target: 'disconnected', actions: ['recordHandshakeTimeout', 'recordRetriesExhausted'] },
  ...retryAfter(['recordHandshakeTimeout', 'countFailure', 'planBackoff']),
] as const;


/** The wait between attempts, shared by `reconnecting` and `suspended`; each retries from `connecting`. */
function retryWait() {
  return {
    entry: 'closeSocket',
    initial: 'waiting',
    states: {
      waiting: {
        always: { guard: 'isOffline', target: 'offline' },
        after: { retryDelay: { target: '#gateway.connecting' } },
        on: { 'network.offline': { target: 'offline', actions: 'recordOffline' } },
      },
      // Offline: wait for `online` instead of burning attempts against a dead network.
      offline: {},
    },
    on: {
      'network.online': { target: 'connecting', actions: 'recordOnline' },
      'page.visible': { guard: 'mayRetryEarly', target: 'connecting' },
      'user.connect': { target: 'connecting' },
      'user.disconnect': { target: 'disconnected', actions: 'recordUserClose' },
    },
  } as const;
}

/**
 * The client's lifecycle chart. Top-level states: `disconnected` (initial), `connecting`,
 * `negotiating`, `joined` (`replaying` -> `live`), `reconnecting` (`waiting` | `offline` |
 * `backpressure`) and `suspended` (`waiting` | `offline`). An outage older than `suspendAfterMs`
 * moves `reconnecting` to `suspended`; only a stable join (or a stop) ends the outage.
 * Named implementations, all swappable with `gatewayMachine.provide(...)`:
 * actors `socket` (which watches liveness while joined: `watchLiveness`), `transportProbe`, `browserSignals`; delays `handshakeTimeout`, `retryDelay`, `stableUptime`, `suspendAfter`;
 * guards `isTerminalRejection`, `isFatalClose`, `isPromptCloseOutsideOutage`, `retriesExhausted`, `mayRefreshToken`, …;
 * actions `openSocket`, `closeSocket`, `planBackoff`, `refreshToken`, `flushOutbox`, `probeLiveness`, ….
 * An auth refusal with a token function retries once promptly (`refreshToken`) before it stops.
 * The node and transport of each attempt are context (`node`, and `nodes[node].transport`), moved by
 * `moveToNextNode` (each node keeps its own transport), `recordTransportFailure` (to the next
 * transport after attempts that reached a server and never opened), `recordTransportJoined`
 * (starts the clock back to the preferred one, delay `transportRetry`) and
 * `retryPreferredTransport` (when it is due). Joined over another when it is due, the client
 * probes the preferred one (`probePreferredTransport`, actor `transportProbe`) and, when it opens,
 * rejoins the same node over it (`transport.probe_opened`: a planned reconnect, no failure).
 * `user.connect` while reconnecting retries at once (the app asked explicitly).
 */
export const gatewayMachine = setup({
  types: {
    context: {} as GatewayContext,
    events: {} as GatewayMachineEvent,
    input: {} as GatewayMachineInput,
  },
  actors: {
    /** Opens one WebSocket, sends the handshake, turns its callbacks into events. Inert by default. */
    socket: fromCallback<SocketCommand, SocketActorInput>(() => undefined),
    /**
     * Forwards the browser's `online`/`offline` and `visibilitychange` as chart events while the
     * client is not stopped; on start it reports a change made while it was not watching. Inert by default.
     */
    browserSignals: fromCallback<EventObject, BrowserSignalsInput>(() => undefined),
    /** Opens the preferred transport to the current node without a handshake, closes it, and reports `transport.probe_opened` or `transport.probe_failed`. Inert by default. */
    transportProbe: fromCallback<EventObject, TransportProbeInput>(() => undefined),
  },
  guards: {
    isOffline: ({ context }) => !context.online,
    /** The outage is older than `suspendAfterMs`: retry from `suspended`. */
    outageIsOld: ({ context }) => context.outage === 'old',
    reconnectDisabled: ({ context }) => context.options.reconnect === false,
    /** A refusal a retry cannot fix: auth, version, unknown agent, origin, or `do_not_retry`. */
    isTerminalRejection: ({ event }) => event.type === 'hello.rejected' && isTerminal(event.code, event.nextStep),
    /** A close code that says stop (`give_up` or `reauthenticate` in `classifyClose`). */
    isFatalClose: ({ event }) => {
      if (event.type !== 'socket.closed') return false;
      const action = classifyClose(event.code);
      return action === 'give_up' || action === 'reauthenticate';
    },
    /** No outage in progress: nothing was lost since the last stable join (or the start). */
    outageIsNone: ({ context }) => context.outage === 'none',
    /**
     * 1001, 4002, 4040, 1012 with no outage in progress: reconnect at once, without counting a
     * failure. The same close again before a stable join is a failure like any other, so a gateway
     * that accepts and closes at once cannot make a fast loop.
     */
    isPromptCloseOutsideOutage: ({ context, event }) => context.outage === 'none' && event.type === 'socket.closed' && classifyClose(event.code) === 'reconnect_now',
    /** An auth refusal (`reauthenticate`: a hello_error or close 4003) while one fresh token may still be tried. */
    mayRefreshToken: ({ context, event }) =>
      context.tokenRefresh === 'ready' &&
      ((event.type === 'hello.rejected' && event.nextStep === 'reauthenticate') || (event.type === 'socket.closed' && classifyClose(event.code) === 'reauthenticate')),
    /** Counting one more failure would pass `maxAttempts`. */
    retriesExhausted: ({ context }) => attemptAfterFailure(context) > maxAttemptsOf(context),
    /** No server-imposed wait is pending, so an early retry (page visible again) is allowed. */
    mayRetryEarly: ({ context }) => context.lastClose === null || !closeAsksToWait(context.lastClose.code),
  },
  actions: {
    openSocket: spawnChild('socket', {
      id: SOCKET_ACTOR_ID,
      input: ({ context }) => ({ handshake: context.handshake, attempt: context.attempt, transport: currentTransport(context), node: context.node }),
    }),
    closeSocket: stopChild(SOCKET_ACTOR_ID),
    watchBrowserSignals: spawnChild('browserSignals', { id: 'browserSignals', input: ({ context }) => ({ online: context.online }) }),
    unwatchBrowserSignals: stopChild('browserSignals'),
    /** The heartbeat presumed the link dead: the socket is closed without a closing handshake when it stops. */
    terminateSocket: sendTo(SOCKET_ACTOR_ID, { type: 'socket.terminate' }),
    recordClose: assign({
      lastClose: ({ event }) =>
        event.type === 'socket.closed' ? closeOf(event.code, event.reason) : event.type === 'hello.rejected' ? closeOf(closeCodeFor(event.code), event.message) : null,
    }),
    /** Spend the one refresh; the next socket's attempt calls the token function again. */
    refreshToken: assign({ tokenRefresh: 'used' as const }),
    /** One more failed attempt in a row (unless it was a probe), recorded with what ended it. */
    countFailure: assign({ attempt: ({ context }) => attemptAfterFailure(context), failure: ({ context, event }) => failureOf(context, event) }),
    resetAttempts: assign({ attempt: 0, backoffLeftMs: 0 }),
    clearError: assign({ error: null }),
    /**
     * Backoff with full jitter, cut short to a probe while probing; a rejection's
     * `retry_after_seconds` or a drain's hint is a floor.
     */
    planBackoff: assign(({ context, event }) => {
      const plan = retryPlanFor(context, context.attempt, serverWaitOf(event));
      return { retryInMs: plan.waitMs, backoffLeftMs: plan.leftMs };
    }),
    /** A planned restart or a dead socket after a stable join: come back within the first backoff step. */
    planPromptRetry: assign({ retryInMs: ({ context }) => retryPlanFor(context, 1).waitMs, backoffLeftMs: 0 }),
    /** Draining: wait the gateway's hint, which it spreads across clients. */
    planDrainRetry: assign({
      retryInMs: ({ event }) => (event.type === 'draining' ? Math.max(0, event.reconnectAfterMs ?? 0) : 0),
      lastClose: closeOf(CloseCode.GoingAway, 'draining'),
    }),
    clearRetry: assign({ retryInMs: null }),
    recordRejection: assign({
      lastClose: ({ event }) =>
        event.type === 'hello.rejected' ? closeOf(closeCodeFor(event.code), event.message) : null,
      error: ({ event }) =>
        event.type === 'hello.rejected'
          ? {
              code: event.code,
              message: event.message,
              nextStep: event.nextStep,
              closeCode: closeCodeFor(event.code),
              ...(event.retryAfterMs === undefined ? {} : { retryAfterMs: event.retryAfterMs }),
            }
          : null,
    }),
    recordFatalClose: assign({
      error: ({ event }) => (event.type === 'socket.closed' ? errorForClose(event.code, event.reason) : null),
    }),
    /** Stop after too many failures, or after the first one when reconnecting is off. */
    recordRetriesExhausted: assign({
      error: ({ context }) => {
        const closeCode = context.lastClose ? { closeCode: context.lastClose.code } : {};
        return context.options.reconnect === false
          ? { code: 'connection_lost', message: 'The connection closed and reconnect is off.', nextStep: defaultNextStep('connection_lost'), ...closeCode }
          : { code: 'retries_exhausted', message: `Gave up after ${context.attempt + 1} failed attempts in a row (the first attempt and reconnect.maxAttempts = ${maxAttemptsOf(context)} retries).`, nextStep: defaultNextStep('retries_exhausted'), ...closeCode };
      },
    }),
    recordHandshakeTimeout: assign({ lastClose: closeOf(CloseCode.HandshakeTimeout, 'handshake_timeout') }),
    recordHeartbeatMiss: assign({ lastClose: closeOf(CloseCode.LivenessTimeout, 'heartbeat_timeout') }),
    /** The client closed on purpose for backpressure: a normal close, not a failure. */
    recordOverflow: assign({ lastClose: closeOf(CloseCode.Normal, 'consumer_overflow') }),
    recordUserClose: assign({ lastClose: closeOf(CloseCode.Normal, 'client disconnect'), error: null }),
    recordAccepted: assign({
      protocol: ({ event }) => (event.type === 'hello.accepted' ? event.protocol : null),
      heartbeatMs: ({ event }) => (event.type === 'hello.accepted' ? event.heartbeatMs : 0),
    }),
    /** A new start by the app, or a stable join: one fresh-token retry is available again. */
    armTokenRefresh: assign({ tokenRefresh: ({ context }) => armedRefresh(context) }),
    useLegacyHandshake: assign({ handshake: 'join' as const }),
    recordOnline: assign({ online: true }),
    recordOffline: assign({ online: false }),
    /** Send queued and unacknowledged messages again (same ids). No-op until provided. */
    flushOutbox: () => undefined,
    /** The first lost connection or failed attempt of an outage starts its clock; later ones leave it running. */
    startOutageClock: enqueueActions(({ context, enqueue }) => {
      if (context.outage !== 'none') return;
      enqueue.assign({ outage: 'young' });
      enqueue.raise({ type: 'outage.aged' }, { id: OUTAGE_CLOCK, delay: 'suspendAfter' });
    }),
    /**
     * A joined connection dropped: the outage starts with the probe window (probes within
     * `initialDelayMs` between the backoff's attempts, until `probeWindowMs`), since most outages
     * are a restart or a blip and a refused connect costs the gateway nothing. Within an outage
     * already running, a no-op.
     */
    startProbing: enqueueActions(({ context, enqueue }) => {
      if (context.outage !== 'none') return;
      const probing = reconnectMs(context, 'probeWindowMs') > 0;
      enqueue.assign({ outage: probing ? 'probing' : 'young' });
      if (probing) enqueue.raise({ type: 'outage.probed' }, { id: PROBE_CLOCK, delay: 'probeWindow' });
      enqueue.raise({ type: 'outage.aged' }, { id: OUTAGE_CLOCK, delay: 'suspendAfter' });
    }),
    /**
     * A connection opened: the gateway is reachable, and a failure after this (a refusal, an
     * accept-then-drop) costs it a join, so it counts and backs off as usual. Probing ends, and
     * no backoff wait is carried.
     */
    endProbing: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ backoffLeftMs: 0 });
      if (context.outage !== 'probing') return;
      enqueue.cancel(PROBE_CLOCK);
      enqueue.assign({ outage: 'young' });
    }),
    /** The probe window ran out: the backoff wait left over from the last probe still carries on. */
    recordOutageProbed: assign({ outage: ({ context }) => (context.outage === 'probing' ? 'young' : context.outage) }),
    recordOutageAged: assign({ outage: 'old' as const }),
    /** A stable join or a stop ends the outage: the next one starts afresh. */
    endOutage: enqueueActions(({ enqueue }) => {
      enqueue.cancel(PROBE_CLOCK);
      enqueue.cancel(OUTAGE_CLOCK);
      enqueue.assign({ outage: 'none' });
    }),
    /**
     * Joined: the socket actor watches for silence longer than twice `heartbeatMs` (0: the gateway
     * does not ping, no watchdog) and sends `heartbeat.missed`. It stops with the socket.
     */
    watchLiveness: sendTo(SOCKET_ACTOR_ID, ({ context }) => ({ type: 'socket.watch_liveness', heartbeatMs: context.heartbeatMs })),
    unwatchLiveness: sendTo(SOCKET_ACTOR_ID, { type: 'socket.unwatch_liveness' }),
    /** Check liveness now instead of trusting a socket that may have died while the page slept. */
    probeLiveness: sendTo(SOCKET_ACTOR_ID, { type: 'socket.probe_liveness' }),
    /** An attempt that never opened: counted, and past `FALLBACK_AFTER_FAILURES` in a row the next attempt uses the next transport. */
    recordTransportFailure: assign(({ context, event }) => (event.type === 'socket.closed' && event.noConnection === true ? {} : afterFailureBeforeOpen(context))),
    /** The connection opened: the transport works, so its run of failures ends. */
    recordTransportOpened: assign(({ context }) => afterOpen(context)),
    /** Joined over the preferred transport: its retry schedule resets. Over another: the clock back to the preferred one starts, unless it already runs (or is due: then `joined` probes at once). */
    recordTransportJoined: enqueueActions(({ context, enqueue }) => {
      if (onPreferredTransport(context)) {
        enqueue.cancel(TRANSPORT_CLOCK);
        enqueue.assign({ transportRetry: 'idle', transportRetries: 0 });
      } else if (context.transportRetry === 'idle') {
        enqueue.assign({ transportRetry: 'waiting' });
        enqueue.raise({ type: 'transport.retry_due' }, { id: TRANSPORT_CLOCK, delay: 'transportRetry' });
      }
    }),
    /** The wait is over: a joined client probes the preferred transport, and the next attempt tries it. */
    markTransportRetryDue: assign({ transportRetry: 'due' as const }),
    /** Joined over a fallback transport with the retry due: probe the preferred one on this node. */
    probePreferredTransport: enqueueActions(({ context, enqueue }) => {
      if (!shouldProbe(context)) return;
      enqueue.spawnChild('transportProbe', { id: TRANSPORT_PROBE_ID, input: { transport: preferredTransport(context), deadlineMs: context.options.handshakeTimeoutMs } });
    }),
    stopTransportProbe: stopChild(TRANSPORT_PROBE_ID),
    /** The probe opened: the next attempt rejoins this node over the preferred transport. The client closed on purpose: no failure. */
    recordTransportUpgrade: assign({ transportRetry: 'upgrade' as const, lastClose: closeOf(CloseCode.Normal, 'transport_upgrade') }),
    /** The probe failed: stay on this transport, and probe again after twice the wait. */
    recordTransportProbeFailed: enqueueActions(({ context, enqueue }) => {
      enqueue.assign(afterProbeFailed(context));
      enqueue.raise({ type: 'transport.retry_due' }, { id: TRANSPORT_CLOCK, delay: 'transportRetry' });
    }),
    /** Before each attempt: the next node of the list, with the transport it had. */
    moveToNextNode: assign(({ context }) => moveToNextNode(context)),
    /** Before each attempt: the preferred transport, when its retry is due or the probe opened. */
    retryPreferredTransport: assign(({ context }) => beforeAttempt(context)),
    /** Stopped: no clock runs while disconnected; a wait that was running makes the next start try the preferred transport first. */
    stopTransportRetry: enqueueActions(({ context, enqueue }) => {
      enqueue.cancel(TRANSPORT_CLOCK);
      if (context.transportRetry === 'waiting') enqueue.assign({ transportRetry: 'due' });
    }),
  },
  delays: {
    handshakeTimeout: ({ context }) => context.options.handshakeTimeoutMs,
    retryDelay: ({ context }) => context.retryInMs ?? 0,
    stableUptime: ({ context }) => reconnectMs(context, 'minUptimeMs'),
    suspendAfter: ({ context }) => reconnectMs(context, 'suspendAfterMs'),
    transportRetry: ({ context }) => transportRetryDelay(context.transportRetries),
    probeWindow: ({ context }) => reconnectMs(context, 'probeWindowMs'),
  },
}).createMachine({
  id: 'gateway',
  context: ({ input }) => ({
    options: chartOptionsOf(input),
    attempt: 0,
    retryInMs: null,
    backoffLeftMs: 0,
    lastClose: null,
    failure: null,
    error: null,
    handshake: 'hello',
    protocol: null,
    heartbeatMs: 0,
    online: input.online ?? true,
    outage: 'none',
    tokenRefresh: input.refreshableToken === true ? 'ready' : 'off',
    ...initialTransportState(input.transports, input.nodes),
  }),
  initial: 'disconnected',
  on: {
    'network.online': { actions: 'recordOnline' },
    'network.offline': { actions: 'recordOffline' },
    // While connecting or joined (not yet stably), an old outage only changes where the next failure waits.
    'outage.aged': { actions: 'recordOutageAged' },
    'transport.retry_due': { actions: 'markTransportRetryDue' },
    // The end of the probe window changes only how the next failure waits, wherever the client is.
    'outage.probed': { actions: 'recordOutageProbed' },
  },
  states: {
    disconnected: {
      entry: ['closeSocket', 'unwatchBrowserSignals', 'clearRetry', 'endOutage', 'stopTransportRetry'],
      on: {
        'user.connect': { target: 'connecting', actions: ['resetAttempts', 'clearError', 'armTokenRefresh', 'watchBrowserSignals'] },
      },
    },
    connecting: {
      entry: ['clearRetry', 'moveToNextNode', 'retryPreferredTransport', 'openSocket'],
      after: { handshakeTimeout: openTimedOut },
      on: {
        'socket.opened': { target: 'negotiating', actions: ['recordTransportOpened', 'endProbing'] },
        'socket.closed': closedWhileConnecting,
        'user.disconnect': { target: 'disconnected', actions: 'recordUserClose' },
      },
    },
    negotiating: {
      after: { handshakeTimeout: handshakeTimedOut },
      on: {
        'hello.accepted': { target: 'joined', actions: ['recordAccepted', 'recordTransportJoined'] },
        'hello.rejected': [
          refreshTokenOnce,
          { guard: 'isTerminalRejection', target: 'disconnected', actions: 'recordRejection' },
          { guard: 'retriesExhausted', target: 'disconnected', actions: ['recordRejection', 'recordRetriesExhausted'] },
          ...retryAfter(['recordRejection', 'countFailure', 'planBackoff']),
        ],
        // The socket actor already sent `join` on the same socket; restart the handshake budget
        // and remember the choice so the next sockets start with `join`.
        'hello.unsupported': { target: 'negotiating', reenter: true, actions: 'useLegacyHandshake' },
        'socket.closed': closedBeforeJoin,
        'user.disconnect': { target: 'disconnected', actions: 'recordUserClose' },
      },
    },
    joined: {
      initial: 'replaying',
      entry: ['clearError', 'flushOutbox', 'probePreferredTransport', 'watchLiveness'],
      exit: ['stopTransportProbe', 'unwatchLiveness'],
      // Reset the failure count, the outage and the token refresh only after a stable stretch, so
      // a gateway that accepts and then drops, closes or refuses at once cannot make a fast loop.
      after: { stableUptime: { actions: ['resetAttempts', 'endOutage', 'armTokenRefresh'] } },
      states: {
        replaying: { on: { caught_up: 'live' } },
        live: {},
      },
      on: {
        // A dead socket, a drain or a planned restart right after a stable join comes back within
        // the first backoff step (or the drain's hint) and counts no failure. The same again
        // before the next stable join is a failure like any other, with backoff: a gateway that
        // accepts and then goes silent, drains or closes at once must not make a fast loop.
        'heartbeat.missed': [
          { guard: 'reconnectDisabled', target: 'disconnected', actions: ['terminateSocket', 'recordHeartbeatMiss', 'recordRetriesExhausted'] },
          { guard: 'outageIsNone', target: 'reconnecting', actions: ['terminateSocket', 'recordHeartbeatMiss', 'planPromptRetry', 'startProbing'] },
          { guard: 'retriesExhausted', target: 'disconnected', actions: ['terminateSocket', 'recordHeartbeatMiss', 'recordRetriesExhausted'] },
          ...retryAfter(['terminateSocket', 'recordHeartbeatMiss', 'countFailure', 'planBackoff']),
        ],
        draining: [
          { guard: 'reconnectDisabled', target: 'disconnected', actions: ['planDrainRetry', 'recordRetriesExhausted'] },
          { guard: 'outageIsNone', target: 'reconnecting', actions: ['planDrainRetry', 'startOutageClock'] },
          { guard: 'retriesExhausted', target: 'disconnected', actions: ['planDrainRetry', 'recordRetriesExhausted'] },
          ...retryAfter(['planDrainRetry', 'countFailure', 'planBackoff']),
        ],
        'socket.closed': [
          refreshTokenOnce,
          { guard: 'isFatalClose', target: 'disconnected', actions: ['recordClose', 'recordFatalClose'] },
          { guard: 'reconnectDisabled', target: 'disconnected', actions: ['recordClose', 'recordRetriesExhausted'] },
          { guard: 'isPromptCloseOutsideOutage', target: 'reconnecting', actions: ['recordClose', 'planPromptRetry', 'startProbing'] },
          { guard: 'retriesExhausted', target: 'disconnected', actions: ['recordClose', 'recordRetriesExhausted'] },
          ...retryAfter(['recordClose', 'countFailure', 'planBackoff'], 'startProbing'),
        ],
        // Not a failure: the attempt count stays, and the rejoin waits for the reader, not a timer.
        'consumer.overflow': { target: 'reconnecting.backpressure', actions: 'recordOverflow' },
        'page.visible': { actions: 'probeLiveness' },
        'transport.retry_due': { actions: ['markTransportRetryDue', 'probePreferredTransport'] },
        // The preferred transport opens to this node: leave at once and rejoin over it, on the same
        // node, with no wait and no failure counted; the resume (since/epoch) and the outbox make it
        // lose and repeat nothing. At most one connection at a time, so no handover on two sockets.
        'transport.probe_opened': { target: 'connecting', actions: ['closeSocket', 'recordTransportUpgrade'] },
        'transport.probe_failed': { actions: ['stopTransportProbe', 'recordTransportProbeFailed'] },
        'network.online': { actions: ['recordOnline', 'probeLiveness'] },
        'network.offline': { actions: ['recordOffline', 'probeLiveness'] },
        'user.disconnect': { target: 'disconnected', actions: 'recordUserClose' },
      },
    },
    reconnecting: {
      ...retryWait(),
      states: {
        ...retryWait().states,
        // Paused for a slow `events()` reader: only its draining (or the app) ends the wait; coming
        // online or visible again, or the outage aging, changes nothing about the backlog.
        backpressure: {
          on: {
            'consumer.drained': [{ guard: 'isOffline', target: 'offline' }, { target: '#gateway.connecting' }],
            'network.online': { actions: 'recordOnline' },
            'page.visible': {},
            'outage.aged': { actions: 'recordOutageAged' },
          },
        },
      },
      on: {
        ...retryWait().on,
        'outage.aged': { target: 'suspended', actions: 'recordOutageAged' },
      },
    },
    // Same waits as `reconnecting`, under the long cap: a long outage across a fleet stays gentle.
    suspended: retryWait(),
  },
});

/** The chart's logic type, e.g. for `ActorRefFrom<GatewayMachine>`. */
export type GatewayMachine = typeof gatewayMachine;
