// Gateway options, their defaults, and validation. A bad option fails createGateway at once
// with a `configuration_error`, never later on the first connection.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { isValidRange, MAX_SERVER_FRAME_BYTES, SUPPORTED_PROTOCOL, type ProtocolRange } from '../protocol/index.js';
import { systemClock, type GatewayClock } from './clock.js';
import { GATEWAY_DIALECTS, type GatewayDialect } from './dialects/choose.js';
import { parseTrustedProxies, type TrustedProxies } from './client-address.js';
import { GatewayError } from './errors.js';
import type { EventLog } from './event-log.js';
import { randomId } from './random-id.js';
import type { Fleet } from './fleet.js';
import type { RateLimit } from './rate-limiter.js';
import type { SessionCaps, SessionLimits } from './session-caps.js';
import type { GatewayTransport } from './transport.js';

/** What a token verifier learns about the connection besides the token. */
export interface VerifyContext {
  readonly agentId: string;
  readonly sessionId: string | undefined;
  readonly origin: string | undefined;
  readonly address: string;
}

/**
 * Decides whether a connection may join. Called with `undefined` when no token was sent, so a
 * verifier can allow anonymous access; a refusal without a token is `auth_required`, with one
 * `auth_unauthorized`. A verifier that throws refuses with `internal_error`.
 *
 * `true` binds a new session to the token itself (only the same token resumes it). `{ subject }`
 * allows the token and binds sessions to the identity it stands for instead, so a client that
 * refreshes an expiring token keeps resuming its session.
 */
export type TokenVerifier = (token: string | undefined, context: VerifyContext) => TokenVerdict | Promise<TokenVerdict>;

/** What a {@link TokenVerifier} answers: refuse, allow, or allow as a named subject. */
export type TokenVerdict = boolean | { readonly subject: string };

/** Options for `createGateway`. Every field has a default. */
export interface GatewayOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /** Protocol versions served. @default {min: 1, max: 2} */
  readonly protocol?: ProtocolRange;
  /** Events kept per session, for the default in-memory log. A given `log` uses its own. @default 1000 */
  readonly replayWindow?: number;
  /** Ping interval; silence for twice this closes with 4002. @default 15000 */
  readonly heartbeatMs?: number;
  /** Agents served. Omitted: any agent_id is accepted and sessions are created on demand. */
  readonly agents?: readonly string[];
  /** Event store. Pass the same log to a new gateway to restart with its history. @default a fresh memory log */
  readonly log?: EventLog;
  /**
   * The services shared with the other nodes of the deployment: live feed, presence, node
   * registry, session caps, store health. A shared log comes with its fleet (`createRedisFleet`
   * returns both: pass them together). @default createLocalFleet(): this node alone
   */
  readonly fleet?: Fleet;
  /** Time allowed between the socket opening and `hello`. @default 10000 */
  readonly handshakeTimeoutMs?: number;
  /** Largest frame accepted, in bytes; over twice this the socket closes with 1009. @default 1048576 */
  readonly maxPayload?: number;
  /** Unsent bytes a connection may pile up before it is evicted with 4013. @default 4194304 */
  readonly maxBufferedBytes?: number;
  /**
   * Received frames one connection may hold waiting to be handled (while its token is verified,
   * or its session's log is slow), in bytes; each frame also counts 512 bytes of overhead. Past
   * it the gateway stops reading the socket until half has been handled, so TCP pushes back on
   * the peer and nothing is lost. @default 1048576
   */
  readonly maxInboundQueueBytes?: number;
  /**
   * Largest event `publish()` takes, and largest state `setState()` takes, as encoded JSON bytes.
   * A bigger one is refused with `payload_too_large`: sent to a client it would pass
   * `maxBufferedBytes` on its own, evicting every reader of the session again on every resume.
   * At most half of `maxBufferedBytes`, and at most 8 MiB (half of `MAX_SERVER_FRAME_BYTES`, the
   * largest frame clients read). An event nested deeper than clients read
   * (`MAX_SERVER_FRAME_DEPTH`) is refused too. @default 1048576, or half of maxBufferedBytes if smaller
   */
  readonly maxEventBytes?: number;
  readonly verifyToken?: TokenVerifier;
  /**
   * How long a client message stays claimed by this node while its `onMessage` handlers run,
   * renewed every third of it until they finish (docs/scaling.md, "Client messages"). A resend
   * meanwhile is told to retry (`message_in_flight`); if this node dies, the first resend after
   * the lease ends is applied by whichever node takes it. @default 10000
   */
  readonly messageLeaseMs?: number;
  /**
   * How long a client message's `onMessage` handlers may take. A handler still running then is
   * logged (`message handler timed out`, `stats().counters.messageHandlerTimeouts`) and the message
   * counts as applied, as after a rejection: it is recorded and acked, and its lease and the
   * connection's in-flight slot are freed, so a handler that never settles cannot hold them
   * forever. The handler itself is not stopped. @default 300000 (5 minutes)
   */
  readonly messageHandlerTimeoutMs?: number;
  /**
   * Messages of one connection whose handlers may run at once. At the bound the connection
   * stops reading frames until one finishes, so TCP pushes back on the peer. @default 64
   */
  readonly maxMessagesInFlight?: number;
  /** Origins allowed to connect. Omitted: any. A request without an Origin header (not a browser) is allowed. */
  readonly allowedOrigins?: readonly string[];
  /**
   * Most sockets open at once from one address. One more is refused with `rate_limited` (4029,
   * `retry_after_seconds` 10): the rate limit alone lets an address pile up sockets that stay
   * open. Raise it when many users share an address (a NAT, a proxy). @default 1000
   */
  readonly maxConnectionsPerAddress?: number;
  /** Per-address connection rate, or false for none. @default {connections: 100, perMs: 1000} */
  readonly rateLimit?: RateLimit | false;
  /**
   * Load balancers and reverse proxies in front of the gateway, as addresses or CIDR ranges
   * (`['10.0.0.0/8', '127.0.0.1']`). A connection from one of them is charged to the client
   * address in its `X-Forwarded-For` header (read right to left past trusted hops), so the
   * per-address limits and logs see users rather than the proxy. Never list an address that
   * clients can connect from directly: they could then claim any address. @default [] (the header is ignored)
   */
  readonly trustedProxies?: readonly string[];
  /**
   * A pino logger, or false for none. Without one the gateway writes only warnings and errors,
   * as JSON lines on stderr, at `LIFELINE_LOG_LEVEL` if set.
   * @default warnings to stderr (silent under Vitest)
   */
  readonly logger?: Logger | false;
  /** `drain()` spreads reconnect hints over this window. @default 5000 */
  readonly drainSpreadMs?: number;
  /** Event types advertised in `hello_ok.features.events`. @default [] */
  readonly eventTypes?: readonly string[];
  /** Under v2, live events published within one tick are sent as one batch. @default true */
  readonly coalesceLive?: boolean;
  /** Largest number of frames in one `batch`. @default 256 */
  readonly maxBatchFrames?: number;
  /**
   * Events read from the log at a time for a join's replay and for a feed repair: a resuming
   * connection holds at most one page, read as the socket takes the previous one. @default 128
   */
  readonly replayPageEvents?: number;
  /**
   * A session with no connection and no publish for this long is forgotten (and deleted from a
   * log the gateway expires sessions of), so a long-running gateway does not grow without bound.
   * A client resuming it later starts a new history and sees an epoch gap. 0 keeps sessions
   * forever. @default 3600000 (1 hour)
   */
  readonly sessionTtlMs?: number;
  /**
   * A session created without a token that has never received an event, with no connection for
   * this long, is forgotten sooner than `sessionTtlMs`: it holds nothing to lose, and a client
   * that comes back is simply given a new one. 0: such sessions wait for `sessionTtlMs` too.
   * @default 300000 (5 minutes)
   */
  readonly anonymousSessionTtlMs?: number;
  /**
   * Most sessions in total. A `hello` that would create one more is refused with
   * `session_limit` (close 4030); resuming an existing session never is. @default 100000
   */
  readonly maxSessions?: number;
  /** Most sessions created with one token (counted by its owner tag). @default 100 */
  readonly maxSessionsPerOwner?: number;
  /**
   * Most sessions created from one address without a verified token (no token, or no
   * `verifyToken`). Raise it when many users share an address (a NAT, a proxy). @default 1000
   */
  readonly maxSessionsPerAddress?: number;
  /**
   * Counts sessions against the caps above. @default the fleet's (`fleet.sessionCaps`: the Redis
   * fleet counts the whole fleet in Redis; a local fleet counts this gateway's sessions)
   */
  readonly sessionCaps?: SessionCaps;
  /**
   * Time for every timer, deadline and duration (heartbeats, handshake timeout, rate limit,
   * session expiry, close grace, uptime); see `clock.ts`. Inject one to run the gateway on
   * virtual time. @default systemClock (performance.now, Date.now for wire timestamps, global timers)
   */
  readonly clock?: GatewayClock;
  /**
   * Where connections come from. `host` and `port` apply only to the default.
   * @default an HTTP server on host:port that upgrades to `ws` and answers `/health`
   */
  readonly transport?: GatewayTransport;
  /**
   * Serve the HTTP binding (SSE down, POST up: PROTOCOL.md section 9) beside the WebSocket, on the
   * default transport's port and path. false: WebSocket only, and the binding's requests get 426
   * like any other plain request (a client with `transports` including `http` then has nothing
   * to fall back to). @default true
   */
  readonly http?: boolean;
  /**
   * Source of new session ids and event ids. Session ids are resume capabilities, so production
   * ids must be unguessable; the simulation injects a seeded source for exact replays.
   * @default a crypto-random UUID (version 4)
   */
  readonly newId?: () => string;
  /**
   * The frames sent to clients: `lifeline` (PROTOCOL.md), `praisonai` (PraisonAI's flat frames,
   * for existing PraisonAI clients), or `auto`: PraisonAI's for a `hello` that lists the
   * `streaming` capability (PraisonAI's client sends `["streaming", "ack"]`), Lifeline's for
   * everyone else (PROTOCOL.md section 8). A client that follows PROTOCOL.md never lists
   * `streaming`, so it always gets Lifeline frames under `auto`.
   * @default 'auto'
   */
  readonly dialect?: GatewayDialect;
  /** How often a node on a shared log reports its figures for fleet-wide health. @default 2000 */
  readonly fleetReportMs?: number;
  /** This node's name in a fleet, reported in `/health`, `hello_ok.health` and metrics. @default `<hostname>-<pid>-<random>` */
  readonly nodeId?: string;
  /**
   * Most sessions `hello_ok.presence` (and `joined.presence`) lists; the client's own session is
   * always first. Counted in `stats().counters.presenceCapped` when the list is cut. @default 100
   */
  readonly maxPresenceEntries?: number;
  /**
   * Publishes waiting for the event store at once (queued behind a session's earlier ones, or
   * on their way to Redis). One more rejects `unavailable` at once, so a slow or stalled store
   * cannot make the app's publishes pile up in memory. @default 10000
   */
  readonly maxPendingPublishes?: number;
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  readonly host: string;
  readonly port: number;
  readonly protocol: ProtocolRange;
  readonly replayWindow: number;
  readonly heartbeatMs: number;
  readonly agents: ReadonlySet<string> | undefined;
  readonly handshakeTimeoutMs: number;
  readonly maxPayload: number;
  readonly maxBufferedBytes: number;
  readonly maxInboundQueueBytes: number;
  readonly maxEventBytes: number;
  readonly messageLeaseMs: number;
  readonly messageHandlerTimeoutMs: number;
  readonly maxMessagesInFlight: number;
  readonly verifyToken: TokenVerifier | undefined;
  readonly allowedOrigins: ReadonlySet<string> | undefined;
  readonly rateLimit: RateLimit | false;
  readonly maxConnectionsPerAddress: number;
  /** Undefined: no proxy is trusted, the peer's address is the client's. */
  readonly trustedProxies: TrustedProxies | undefined;
  readonly drainSpreadMs: number;
  readonly eventTypes: readonly string[];
  readonly coalesceLive: boolean;
  /** The HTTP binding is served (the default transport, unless `http: false`). */
  readonly http: boolean;
  readonly maxBatchFrames: number;
  readonly replayPageEvents: number;
  readonly sessionTtlMs: number;
  readonly anonymousSessionTtlMs: number;
  readonly sessionLimits: SessionLimits;
  readonly clock: GatewayClock;
  readonly newId: () => string;
  readonly dialect: GatewayDialect;
  readonly nodeId: string;
  readonly fleetReportMs: number;
  readonly maxPresenceEntries: number;
  readonly maxPendingPublishes: number;
}

function eventBytes(options: GatewayOptions): number {
  const half = Math.floor(positiveInt('maxBufferedBytes', options.maxBufferedBytes ?? 4_194_304) / 2);
  const value = positiveInt('maxEventBytes', options.maxEventBytes ?? Math.min(1_048_576, half));
  if (value > half) throw new GatewayError('configuration_error', `maxEventBytes must be at most half of maxBufferedBytes (${half}), got ${value}`);
  // Clients refuse a frame over MAX_SERVER_FRAME_BYTES: an event must fit in one with room to spare.
  const clientHalf = MAX_SERVER_FRAME_BYTES / 2;
  if (value > clientHalf) throw new GatewayError('configuration_error', `maxEventBytes must be at most half of MAX_SERVER_FRAME_BYTES (${clientHalf}), the largest frame clients read; got ${value}`);
  return value;
}

function positiveInt(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new GatewayError('configuration_error', `${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function trustedProxies(entries: readonly string[] | undefined): TrustedProxies | undefined {
  if (entries === undefined) return undefined;
  if (!Array.isArray(entries)) throw new GatewayError('configuration_error', 'trustedProxies must be a list of addresses or CIDR ranges');
  return entries.length === 0 ? undefined : parseTrustedProxies(entries);
}

/** Fill defaults and validate; throws a `configuration_error` GatewayError on a bad option. */
export function resolveOptions(options: GatewayOptions): ResolvedOptions {
  const protocol = options.protocol ?? SUPPORTED_PROTOCOL;
  if (!isValidRange(protocol) || protocol.min < 1) {
    throw new GatewayError('configuration_error', `protocol must be a range with 1 <= min <= max, got ${String(protocol.min)}..${String(protocol.max)}`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new GatewayError('configuration_error', `port must be 0..65535, got ${String(port)}`);
  const rateLimit = options.rateLimit ?? { connections: 100, perMs: 1000 };
  if (rateLimit !== false) {
    positiveInt('rateLimit.connections', rateLimit.connections);
    positiveInt('rateLimit.perMs', rateLimit.perMs);
  }
  if (options.http !== undefined && typeof options.http !== 'boolean') {
    throw new GatewayError('configuration_error', `http must be true or false, got ${JSON.stringify(options.http)}`);
  }
  if (options.http === true && options.transport !== undefined) {
    throw new GatewayError('configuration_error', 'http: true needs the default transport (the binding serves its HTTP server); drop `transport`, or `http`');
  }
  const clock = options.clock ?? systemClock;
  for (const method of ['now', 'wallNow', 'setTimeout', 'clearTimeout'] as const) {
    if (typeof clock[method] !== 'function') throw new GatewayError('configuration_error', `clock must have now, wallNow, setTimeout and clearTimeout; ${method} is missing`);
  }
  const dialect = options.dialect ?? 'auto';
  if (!GATEWAY_DIALECTS.includes(dialect)) {
    throw new GatewayError('configuration_error', `dialect must be one of ${GATEWAY_DIALECTS.join(', ')}, got ${String(dialect)}`);
  }
  return {
    host: options.host ?? '127.0.0.1',
    port,
    protocol: { min: protocol.min, max: protocol.max },
    replayWindow: positiveInt('replayWindow', options.log?.replayWindow ?? options.replayWindow ?? 1000),
    heartbeatMs: positiveInt('heartbeatMs', options.heartbeatMs ?? 15_000),
    agents: options.agents ? new Set(options.agents) : undefined,
    handshakeTimeoutMs: positiveInt('handshakeTimeoutMs', options.handshakeTimeoutMs ?? 10_000),
    maxPayload: positiveInt('maxPayload', options.maxPayload ?? 1_048_576, 64),
    maxBufferedBytes: positiveInt('maxBufferedBytes', options.maxBufferedBytes ?? 4_194_304),
    maxInboundQueueBytes: positiveInt('maxInboundQueueBytes', options.maxInboundQueueBytes ?? 1_048_576),
    maxEventBytes: eventBytes(options),
    // At least 30 ms: renewals come every third of it, and a lease shorter than a round trip lapses while renewed.
    messageLeaseMs: positiveInt('messageLeaseMs', options.messageLeaseMs ?? 10_000, 30),
    messageHandlerTimeoutMs: positiveInt('messageHandlerTimeoutMs', options.messageHandlerTimeoutMs ?? 300_000),
    maxMessagesInFlight: positiveInt('maxMessagesInFlight', options.maxMessagesInFlight ?? 64),
    verifyToken: options.verifyToken,
    allowedOrigins: options.allowedOrigins ? new Set(options.allowedOrigins) : undefined,
    rateLimit,
    maxConnectionsPerAddress: positiveInt('maxConnectionsPerAddress', options.maxConnectionsPerAddress ?? 1000),
    trustedProxies: trustedProxies(options.trustedProxies),
    drainSpreadMs: positiveInt('drainSpreadMs', options.drainSpreadMs ?? 5000, 0),
    eventTypes: options.eventTypes ?? [],
    coalesceLive: options.coalesceLive ?? true,
    http: options.transport === undefined && options.http !== false,
    maxBatchFrames: positiveInt('maxBatchFrames', options.maxBatchFrames ?? 256),
    replayPageEvents: positiveInt('replayPageEvents', options.replayPageEvents ?? 128),
    sessionTtlMs: positiveInt('sessionTtlMs', options.sessionTtlMs ?? 3_600_000, 0),
    anonymousSessionTtlMs: positiveInt('anonymousSessionTtlMs', options.anonymousSessionTtlMs ?? 300_000, 0),
    sessionLimits: {
      total: positiveInt('maxSessions', options.maxSessions ?? 100_000),
      perOwner: positiveInt('maxSessionsPerOwner', options.maxSessionsPerOwner ?? 100),
      perAddress: positiveInt('maxSessionsPerAddress', options.maxSessionsPerAddress ?? 1000),
    },
    clock,
    newId: options.newId ?? randomId,
    dialect,
    nodeId: options.nodeId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`,
    fleetReportMs: positiveInt('fleetReportMs', options.fleetReportMs ?? 2000),
    maxPresenceEntries: positiveInt('maxPresenceEntries', options.maxPresenceEntries ?? 100),
    maxPendingPublishes: positiveInt('maxPendingPublishes', options.maxPendingPublishes ?? 10_000),
  };
}
