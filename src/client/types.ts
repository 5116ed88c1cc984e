// The public shapes of the client: options, delivered events, gaps, info and the client itself.
// Past 300 lines on purpose: every type apps see in one place, most of it their TSDoc.
import type { Features, Health, Policy, PresenceEntry, ProtocolRange } from '../protocol/index.js';
import type { InspectionEvent, Observer, StateValue } from 'xstate';
import type { ReconnectOptions } from '../../machines/backoff.js';
import type { OutboxStore } from './outbox-store.js';
import type { GatewayUrl } from './gateway-urls.js';
import type { GatewayConnectError } from './errors.js';
import type { OutagePhase } from '../../machines/gateway-machine.js';
import type { TransportName } from '../../machines/transport-fallback.js';

/**
 * The public connection status: a projection of the chart's top-level state. `reconnecting`
 * retries under the short cap; `suspended` is an outage older than `reconnect.suspendAfterMs`,
 * retried under `reconnect.suspendedMaxDelayMs`.
 */
export type ClientState = 'connecting' | 'negotiating' | 'joined' | 'reconnecting' | 'suspended' | 'disconnected';

/**
 * One event as delivered by `events()` and `onEvent`, in seq order, never twice.
 *
 * Lifeline `event`/`replay` frames map `event.type`, `event.data`, `event.event_id`, … here.
 * PraisonAI flat frames (`{"type":"token_stream","data":…,"seq":3}`) use the frame's own `type`;
 * `data` is the frame's `data`, or the whole frame when it has none (as its replays carry it).
 */
export interface GatewayEvent {
  /**
   * Per-session number, monotonic within an epoch. `null` for unnumbered notices of a PraisonAI
   * gateway (`status`, `aborted`, `left`, …): they are never replayed and do not move the cursor.
   */
  readonly seq: number | null;
  /** The event type, e.g. `token`, `reply`, `response`, `token_stream`. */
  readonly type: string;
  readonly data: unknown;
  readonly eventId: string | undefined;
  /** Seconds since the epoch, as the gateway stamped it. */
  readonly timestamp: number | undefined;
  readonly source: string | undefined;
  /** True when it came from the resume replay rather than live. */
  readonly replayed: boolean;
  /** The wire frame it came from (a `batch` member for batched frames). */
  readonly raw: unknown;
}

/**
 * Events `expected .. received-1` will never arrive. After an epoch change `received` may be
 * lower than `expected`: numbering restarted in a new history.
 */
export interface GapInfo {
  /** The seq the client expected next (`cursor + 1`). */
  readonly expected: number;
  /** The seq (or replay start) that came instead. */
  readonly received: number;
  /** `window`: fell out of the replay window; `epoch`: the history changed; `live`: a jump in the live stream. */
  readonly reason: 'window' | 'epoch' | 'live';
}

/** How the last resume went (PROTOCOL.md section 4). */
export interface ResumeInfo {
  /** `full`: nothing lost; `partial`: a gap, some events replayed; `none`: new session, or nothing replayable. */
  readonly mode: 'full' | 'partial' | 'none';
  /** First seq replayed (or expected), and the head at the handshake. `from > to` means nothing to replay. */
  readonly from: number;
  readonly to: number;
}

/** The answer to `resync()`: the session state as of `cursor`; later events have higher seqs. */
export interface SessionSnapshot {
  readonly state: unknown;
  readonly cursor: number;
  readonly epoch: string | null;
}

/** What `send()` resolves with. */
export interface SendResult {
  /** The message id (client-chosen, reused for every resend). */
  readonly id: string;
  /** True when the gateway had already applied this id (a resend after a reconnect). */
  readonly duplicate: boolean;
  /** False against gateways without the `ack` extension: the promise resolved when the frame was written. */
  readonly acknowledged: boolean;
}

/**
 * The client's time: every timer, deadline and silence goes through it. XState's `SimulatedClock`
 * fits as is.
 */
export interface ClientClock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
  /**
   * Monotonic milliseconds: deadlines and silence are measured with it, so a wall-clock step
   * cannot stretch or shrink them. @default performance.now
   */
  now(): number;
  /**
   * Wall-clock milliseconds, read only to notice a suspend the monotonic clock did not count
   * (wall time running ahead of `now()`) and for wire timestamps. Without it, only timers that
   * fire long after their time reveal a wake-up. @default Date.now (for the default clock)
   */
  wallNow?(): number;
}

/** Where a client stands in its session: what `checkpoint()` returns and the `resume` option takes. */
export interface Checkpoint {
  readonly sessionId: string;
  /** The history the cursor belongs to; null before the gateway named one. */
  readonly epoch: string | null;
  /** Seq of the last event delivered. */
  readonly cursor: number;
}

/** Everything known about the connection, for display and diagnostics. */
export interface GatewayInfo {
  /** Negotiated version; 0 after the legacy `join` handshake; null before the first join. */
  readonly protocol: number | null;
  readonly sessionId: string | null;
  /** Seq of the last delivered event. */
  readonly cursor: number;
  readonly epoch: string | null;
  readonly presence: readonly PresenceEntry[];
  readonly health: Health | null;
  readonly features: Features | null;
  readonly policy: Policy | null;
  /** Consecutive failed attempts since the last stable join. */
  readonly attempt: number;
  /** The pending retry's delay while reconnecting or suspended, else null. */
  readonly retryInMs: number | null;
  /**
   * Age of the current outage: `none` (joined stably, or stopped), `probing` (the first
   * `reconnect.probeWindowMs` after a joined connection dropped: retries within
   * `reconnect.initialDelayMs`), `young` (retries capped by `reconnect.maxDelayMs`) or `old` (past
   * `reconnect.suspendAfterMs`: retries from `suspended`).
   */
  readonly outage: OutagePhase;
  readonly lastClose: { readonly code: number; readonly reason: string } | null;
  /**
   * The gateway URL of the current (or last) attempt, as given (`http` mapped to `ws`; the HTTP
   * transport requests the same URL over `http`/`https`); null before the first.
   */
  readonly url: string | null;
  /**
   * The transport of the current attempt (or the next one, between attempts): `websocket`, or
   * `http` after WebSocket attempts failed before opening (see `GatewayClientOptions.transports`).
   */
  readonly transport: TransportName;
  readonly resume: ResumeInfo | null;
  /** Listener calls that threw so far (each also reported to `onError` as `listener_error`). */
  readonly listenerErrors: number;
  /**
   * The most recent failure and its cause, kept after recovery: a socket that never opened
   * (`connect_failed`: ECONNREFUSED, DNS, an HTTP status instead of 101, TLS; in browsers "hidden
   * by the browser" with the close code), a refusal, or a stop. A dropped connection's cause
   * (`connection_lost`, e.g. ECONNRESET) is kept here without an `onError` call. null until then.
   */
  readonly lastError: GatewayConnectError | null;
  readonly backpressure: BackpressureInfo;
}

/** The `events()` bound at work (see `GatewayClientOptions.maxBufferedEvents`). */
export interface BackpressureInfo {
  /** The longest queue of any open `events()` iterator now. */
  readonly buffered: number;
  readonly maxBufferedEvents: number;
  /** The client left the gateway for a slow reader and waits for it (chart: `reconnecting.backpressure`). */
  readonly paused: boolean;
  /** Pauses so far (each reported as `consumer_overflow`). */
  readonly overflows: number;
  /** Early events not kept because nobody read them (reported as `events_dropped`). */
  readonly earlyDropped: number;
}

/** Options of {@link createGatewayClient}. */
export interface GatewayClientOptions {
  /**
   * `ws://` or `wss://` URL of the gateway; `http://` and `https://` are used as `ws://` and
   * `wss://`, as browsers do. For PraisonAI put the token in `?token=`.
   *
   * For a fleet, a list of node URLs: every attempt after the first goes to the next one (after a
   * failed attempt, a drop or a drain), round the list, within the usual backoff. Or a function
   * called before every attempt with `{attempt, previousUrl, lastClose, drain}` that returns the
   * URL to use. `info.url` says which node the client is on.
   */
  readonly url: GatewayUrl;
  readonly agentId: string;
  /** Resume this session from its start (`since: 0`). @default a new session */
  readonly sessionId?: string;
  /**
   * Sent in `hello.token` (and `join.token`), and as `?token=` too when the URL's path ends in `/ws`
   * (PraisonAI's gateway reads it only there; a URL with its own `?token=` is left as it is);
   * never shown in a message or log (`[redacted]`). After `auth_required` the error says where it
   * was sent. A function (sync or async) is called
   * before each connection attempt, so an expiring token can be refreshed; after an auth refusal
   * (`auth_unauthorized`, `auth_required`, close 4003) the client calls it once more and retries
   * at once before it gives up. A throw or rejection fails that attempt with `token_unavailable`
   * and the client backs off. @default no token
   */
  readonly token?: TokenSource;
  /**
   * Resume where an earlier run (another process, a reloaded page) stopped: the value of its
   * `checkpoint()`. Replay starts after `cursor`, in `epoch`. Takes precedence over `sessionId`.
   * @default a new session (or `sessionId` from its start)
   */
  readonly resume?: Checkpoint;
  /** Offered version range. @default {min: 1, max: 2} */
  readonly protocol?: ProtocolRange;
  /**
   * Capabilities announced in `hello`. `streaming` is refused with `invalid_options`: it marks a
   * PraisonAI client (PROTOCOL.md section 8). @default ['ack', 'batch', 'epoch']
   */
  readonly capabilities?: readonly string[];
  /** Reconnect policy, or `false` to stop at the first close. @default see ReconnectOptions */
  readonly reconnect?: ReconnectOptions | false;
  /** Budget to open the socket, and again to finish the handshake. @default 10000 */
  readonly handshakeTimeoutMs?: number;
  /**
   * How long `connect()` waits for the first join before it rejects with `connect_timeout` (naming
   * the last cause), so an app awaiting `connect()` at start-up learns that the URL is wrong. The
   * client keeps trying after that; `Infinity` waits as long as it tries. Per call: `connect({ timeoutMs })`.
   * @default 30000
   */
  readonly connectTimeoutMs?: number;
  /**
   * Events one `events()` iterator may queue. At the bound the client leaves the gateway on its
   * own (`lastClose` `{code: 1000, reason: 'consumer_overflow'}`, not counted as a failure), tells
   * `onError` (`consumer_overflow`) and waits in `reconnecting` (`info.backpressure.paused`) until
   * every iterator has read its queue down to half the bound; then it rejoins from its cursor and
   * the gateway replays what came meanwhile. Nothing is lost (an outage past the replay window is
   * a gap, as always). The queue may pass the bound by the rest of the frame being delivered.
   * The same bound caps the events kept before the first `events()` call: past it they are
   * dropped with `events_dropped`, and a later loop starts from the next event.
   * @default 10000
   */
  readonly maxBufferedEvents?: number;
  /**
   * Bound of the outbox (queued plus unacknowledged messages), and where it is kept: with a
   * `store` (`localStorageOutboxStore()`, `memoryOutboxStore()` or your own) unacknowledged
   * sends survive a restart and are resent, under the same ids, on the next join.
   * @default {maxMessages: 1000} and no store
   */
  readonly outbox?: { readonly maxMessages?: number; readonly store?: OutboxStore };
  /**
   * How to reach the gateway, in order of preference: `websocket`, and `http` (Server-Sent Events
   * down, POSTs up, over `fetch`; PROTOCOL.md, "Transport bindings") for networks whose proxies
   * cannot carry a WebSocket. After 2 attempts in a row that never opened (an upgrade refused with
   * an HTTP status, a close before open, no open within `handshakeTimeoutMs`), the next attempt
   * uses the next transport in the list (wrapping round). After joining over another transport,
   * the first is tried again at the first reconnect after 60 s, then 2, 4 and 8 min, then every 10
   * min, each retry falling back after one failed attempt; joining over it resets the schedule.
   * Sessions, cursors, acks and the outbox are the same over both. `info.transport` says which is
   * in use. @default ['websocket', 'http']
   */
  readonly transports?: readonly TransportName[];
  /** WebSocket class to use. @default isomorphic-ws (ws in Node, the global WebSocket in browsers) */
  readonly WebSocket?: WebSocketClass;
  /**
   * XState inspection observer, passed to the chart's actor as is: a function, or an observer
   * object such as `inspector.inspect` from `@statelyai/inspect` (which is `{ next }`, not a function).
   */
  readonly inspect?: ChartInspector;
  /** Timers and time (monotonic `now`, optional `wallNow`). @default the global timers, performance.now and Date.now */
  readonly clock?: ClientClock;
  /** Jitter source in `[0, 1)`. @default Math.random */
  readonly random?: () => number;
}

/**
 * A token, or a function the client calls before each connection attempt (sync or async), so an
 * expiring token can be refreshed. Its result is sent in `hello.token`, and as `?token=` too when
 * the URL's path ends in `/ws` (PraisonAI's gateway reads it only there: `placeToken`); never logged.
 */
export type TokenSource = string | (() => string | undefined | PromiseLike<string | undefined>);

/** Options of one `connect()` call. */
export interface ConnectOptions {
  /**
   * Reject with `connect_timeout` when not joined within this many ms (on the client's clock).
   * `Infinity` waits for as long as the client tries. @default the client's `connectTimeoutMs` (30000)
   */
  readonly timeoutMs?: number;
  /** Reject with `connect_timeout` after this many failed attempts since the call. @default Infinity */
  readonly maxFailures?: number;
}

/** A handler property whose event type may be narrower (bivariant, like DOM handlers), so ws and DOM sockets both fit. */
export type WebSocketHandler<E> = { bivarianceHack(event: E): void }['bivarianceHack'] | null;

/** The subset of the WebSocket API the client uses (browser WebSocket, ws and isomorphic-ws all fit). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** ws (Node) only: destroy the TCP socket without the closing handshake. */
  terminate?: () => void;
  onopen: WebSocketHandler<unknown>;
  onmessage: WebSocketHandler<{ data: unknown }>;
  onclose: WebSocketHandler<{ code: number; reason: string }>;
  onerror: WebSocketHandler<unknown>;
}

/** Options the client passes to `ws` (Node); browsers ignore the third argument. */
export interface WebSocketOptions {
  /** Largest incoming frame, in bytes (`MAX_SERVER_FRAME_BYTES`): `ws` refuses a bigger one at its header. */
  readonly maxPayload?: number;
}

/** A WebSocket constructor: `new WebSocket(url, undefined, { maxPayload })`. */
export type WebSocketClass = new (url: string, protocols?: string | string[], options?: WebSocketOptions) => WebSocketLike;

/** The `inspect` option and {@link ClientChart.inspect}: a function, or an observer such as `inspector.inspect` from `@statelyai/inspect`. */
export type ChartInspector = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** The chart's state at one moment, as {@link ClientChart.getSnapshot} reports it. */
export interface ChartSnapshot {
  /** The active states, as XState writes them: `'disconnected'`, `{ joined: 'live' }`, `{ reconnecting: 'offline' }`, … */
  readonly value: StateValue;
  /** Whether the chart is in `state`: a top-level state (`'joined'`) or a nested one (`{ joined: 'live' }`). */
  matches(state: StateValue): boolean;
}

/**
 * A read-only view of the client's running chart, for inspectors, dashboards and tests. It can
 * watch the chart but never send it an event: the client's methods are the only way in.
 */
export interface ClientChart {
  /** The chart's state now. */
  getSnapshot(): ChartSnapshot;
  /**
   * Hand every inspection event of the chart from now on (its actors, events, transitions and
   * snapshots) to `observer`, as the `inspect` option does from the start. The running actors are
   * introduced first (an `@xstate.actor` event each), so an inspector attached late, such as
   * `@statelyai/inspect`'s, still knows the chart. A throw is reported to `onError` as
   * `listener_error`. Returns a function that stops it.
   */
  inspect(observer: ChartInspector): () => void;
}

/**
 * The client returned by {@link createGatewayClient}. Its methods are its own functions, so they can be
 * passed around detached (`const { send } = client`); `state`, `info` and `chart` are read-only
 * getters. Every `on…` returns an unsubscribe.
 */
export interface GatewayClient {
  /**
   * Resolves on the first join. Rejects with {@link GatewayConnectError} on a terminal refusal, and
   * with `connect_timeout` after `timeoutMs` (default `connectTimeoutMs`, 30 s) or `maxFailures`
   * failed attempts, naming the last cause; the client keeps trying after a `connect_timeout`.
   * Every failed attempt is also reported to `onError` (`connect_failed` with its cause).
   */
  connect(options?: ConnectOptions): Promise<void>;
  /**
   * Ordered, duplicate-free events that survive reconnects. Ends on `disconnect()` (after the
   * queued events); throws when the client stops on an error. Bounded by `maxBufferedEvents`.
   * Concurrent `next()` calls settle in call order.
   */
  events(): AsyncIterable<GatewayEvent>;
  onState(listener: (state: ClientState) => void): () => void;
  onGap(listener: (gap: GapInfo) => void): () => void;
  /**
   * Listen to every event. An app that listens this way before it ever calls `events()` does not
   * iterate, so the client stops keeping early events for a first `events()` loop.
   */
  onEvent(listener: (event: GatewayEvent) => void): () => void;
  /**
   * Errors and notices: failed attempts, bad server frames, and `listener_error` when any listener
   * (including another `onError` one) throws, with the throw as `error.cause`. Every listener call
   * is isolated: a throw never stops delivery to the other listeners, `events()` or the rest of a
   * batch. A throw by an `onError` listener while it hears a `listener_error` is only counted
   * (`info.listenerErrors`), so a listener that always throws cannot loop.
   */
  onError(listener: (error: GatewayConnectError) => void): () => void;
  /** Snapshots, whether asked for by `resync()` or sent by the gateway after a legacy `join`. */
  onSnapshot(listener: (snapshot: SessionSnapshot) => void): () => void;
  /** Send a message; queued while not joined; resolves on the gateway's `ack`. Rejects with `outbox_full` when the outbox is full. */
  send(content: unknown): Promise<SendResult>;
  /** Ask for a snapshot and continue from its cursor. */
  resync(): Promise<SessionSnapshot>;
  /**
   * Where this client stands (`{sessionId, epoch, cursor}`), to store after handling an event and
   * pass back as the `resume` option after a restart; null before the first join.
   */
  checkpoint(): Checkpoint | null;
  readonly state: ClientState;
  readonly info: GatewayInfo;
  /** The running chart, read-only: its state and its inspection events. */
  readonly chart: ClientChart;
  /** Close the socket and stay down; pending sends reject with `client_closed`. */
  disconnect(): Promise<void>;
}
