// What every connection shares with its gateway: options, log, sessions, logger and counters.
import type { Logger } from 'pino';
import type { Health } from '../protocol/index.js';
import type { MessageApplier } from './apply-message.js';
import type { GatewayClock } from './clock.js';
import type { EventLog } from './event-log.js';
import type { Fanout } from './fanout.js';
import type { Fleet } from './fleet.js';
import type { FleetPresence } from './fleet-presence.js';
import type { GatewayParts } from './gateway-parts.js';
import type { ResolvedOptions } from './options.js';
import type { RateLimiter } from './rate-limiter.js';
import type { SessionCaps } from './session-caps.js';
import type { SessionRegistry } from './session-registry.js';

export type { GatewaySession, MessageHandler } from './apply-message.js';

/** Counters reported by `gateway.stats()`. */
export interface GatewayCounters {
  accepted: number;
  joined: number;
  refused: Record<string, number>;
  badFrames: number;
  messages: number;
  duplicates: number;
  /** Client messages answered `message_in_flight`: their claim was held by a running handler. */
  messageRetries: number;
  /** Claims taken over from a lapsed lease (a node died, or lost the store, mid-message). */
  messageClaimsTakenOver: number;
  /** HTTP-binding POSTs forwarded to the node holding their stream (the fleet's relay). */
  postsRelayed: number;
  /** Client messages whose handlers were still running at `messageHandlerTimeoutMs`, counted as applied. */
  messageHandlerTimeouts: number;
  /** Times a connection stopped reading because `maxMessagesInFlight` handlers were running. */
  messagePauses: number;
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
  /** The services this node shares with the others (one node's own, by default). */
  readonly fleet: Fleet;
  /** Live delivery over the fleet's feed: every event reaches this node's connections through it. */
  readonly fanout: Fanout;
  /** Presence across the fleet's nodes (this node alone on a local fleet). */
  readonly presence: FleetPresence;
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
  /** Claims client messages and runs the app's handlers. */
  readonly messages: MessageApplier;
  /** The outbox and resume rule connections use (gateway-parts.ts). */
  readonly parts: GatewayParts;
}
