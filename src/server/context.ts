// What every connection shares with its gateway: options, log, sessions, logger and counters.
import type { Logger } from 'pino';
import type { Health, MessageFrame } from '../protocol/index.js';
import type { GatewayClock } from './clock.js';
import type { EventLog } from './event-log.js';
import type { Fanout } from './fanout.js';
import type { FleetPresence } from './fleet-presence.js';
import type { ResolvedOptions } from './options.js';
import type { RateLimiter } from './rate-limiter.js';
import type { SessionCaps } from './session-caps.js';
import type { SessionRegistry } from './session-registry.js';

/** The session a client message arrived on, as the app sees it. */
export interface GatewaySession {
  readonly id: string;
  readonly agentId: string;
  readonly epoch: string;
}

/** Receives client `message` frames, once per message id. */
export type MessageHandler = (message: MessageFrame, session: GatewaySession) => void;

/** Counters reported by `gateway.stats()`. */
export interface GatewayCounters {
  accepted: number;
  joined: number;
  refused: Record<string, number>;
  badFrames: number;
  messages: number;
  duplicates: number;
  published: number;
  reaped: number;
  /** Sessions forgotten after `sessionTtlMs` idle. */
  expired: number;
  slowConsumers: number;
  /** Live events delivered to connections of this node. */
  delivered: number;
  /** Joins that replayed history, and the events they replayed. */
  replays: number;
  replayedEvents: number;
  /** Joins that signalled a gap, by reason (`window`, `epoch`). */
  gaps: Record<string, number>;
  /** Hellos refused with `session_limit`: a new session would have passed a cap. */
  sessionLimited: number;
  /** Times a connection stopped reading because its inbound queue passed `maxInboundQueueBytes`. */
  inboundPauses: number;
  /** Handshakes whose presence list was cut at `maxPresenceEntries`. */
  presenceCapped: number;
}

/** Current levels (not counters): they go up and down. */
export interface GatewayGauges {
  /** Bytes of received frames waiting to be handled, across all connections (with per-frame overhead). */
  inboundQueuedBytes: number;
  /** Open sockets per peer address, for `maxConnectionsPerAddress`; an address leaves at 0. */
  readonly openByAddress: Map<string, number>;
}

/** Shared gateway state handed to each connection. */
export interface GatewayContext {
  readonly options: ResolvedOptions;
  readonly log: EventLog;
  /** Cross-node live delivery, when the log has a live feed (Redis); undefined for the memory log. */
  readonly fanout: Fanout | undefined;
  /** Presence across nodes, when the log has a presence store (Redis); undefined for the memory log. */
  readonly presence: FleetPresence | undefined;
  readonly registry: SessionRegistry;
  readonly logger: Logger;
  readonly rateLimiter: RateLimiter | undefined;
  readonly counters: GatewayCounters;
  readonly gauges: GatewayGauges;
  /** Counts sessions against `maxSessions`, `maxSessionsPerOwner` and `maxSessionsPerAddress`. */
  readonly caps: SessionCaps;
  /** Same as `options.clock`: monotonic `now()` for durations, `wallNow()` for wire timestamps. */
  readonly clock: GatewayClock;
  health(): Health;
  /** Hand a first-seen client message to the app's handlers. */
  dispatchMessage(message: MessageFrame, session: GatewaySession): void;
}
