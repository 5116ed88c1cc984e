// The services the gateway nodes of one deployment share, beside the event log: the live feed
// (cross-node publish/subscribe), presence, the node registry, the relay of frames to the node
// that holds a connection, session caps, the store's health and its write durability. Small interfaces with every member required, as Centrifuge keeps its
// Broker apart from its PresenceManager: a gateway is handed a whole Fleet and never asks which
// of these a backend has. A single node runs on createLocalFleet() (local-fleet.ts); a Redis
// deployment on createRedisFleet(), which returns the log and the fleet together.
import type { PresenceEntry } from '../protocol/index.js';
import type { StoredEvent } from './event-log.js';
import type { SessionCaps, SessionLimits } from './session-caps.js';

/** An event as the live feed carries it: with the history it belongs to. */
export interface LiveEvent extends StoredEvent {
  readonly epoch: string;
}

/** Ends a live-feed subscription. */
export type Unsubscribe = () => Promise<void>;

/**
 * Live events of each session, appended by any node of the fleet. The gateway's fan-out
 * (fanout.ts) subscribes to the sessions it holds connections for, and repairs holes and order
 * from the log, so a feed may deliver each event at most once and usually in order (pub/sub).
 */
export interface LiveFeed {
  /**
   * Hear the session's live events. `onEnded` hears that some node ended the session
   * ({@link LiveFeed.end}), so every node's connections to it end too. Resolves once the
   * subscription is active.
   */
  subscribe(sessionId: string, onEvent: (event: LiveEvent) => void, onEnded: (reason: string) => void): Promise<Unsubscribe>;
  /**
   * This node appended `event` (not a duplicate). A feed the store publishes to by itself (Redis:
   * the append script publishes) ignores it; the in-process feed delivers it to the session's
   * subscribers now.
   */
  appended(sessionId: string, event: LiveEvent): void;
  /** The session was ended (deleted from the log): tell every node that follows it, with `reason`. */
  end(sessionId: string, reason: string): Promise<void>;
  /**
   * Call `listener` whenever the feed came back after an interruption (events may have been
   * missed meanwhile). Returns a function that removes the listener.
   */
  onRestored(listener: () => void): () => void;
}

/**
 * Who may see whom in presence: the sessions of one agent created with the same credentials
 * (same owner tag). An anonymous session is a group of its own.
 */
export interface PresenceGroup {
  readonly agentId: string;
  /** The owner tag; undefined for a session created without a token. */
  readonly owner: string | undefined;
  /** The session asking (or written for); the whole group when anonymous. */
  readonly sessionId: string;
}

/** What a presence read is given: which nodes count as alive, and how much to return. */
export interface PresenceQuery {
  /** Nodes whose lease was running at the last {@link PresenceStore.beat}. */
  readonly live: readonly string[];
  /** Entries of a node outside `live` still count this long after they were written (a node that just started). */
  readonly graceMs: number;
  /** Most sessions returned; the asking session comes first. */
  readonly limit: number;
  /** True when `live` is fresh: entries of nodes outside it, past `graceMs`, may then be deleted. */
  readonly prune: boolean;
}

/**
 * Connection counts per session and node, kept in a store that every node of a fleet shares, so
 * that `hello_ok.presence` covers the fleet. Node ids here are per process (a restarted node is a
 * new one), and a node counts as alive while its lease runs. A single node's store holds nothing:
 * its own connections are the session registry's.
 */
export interface PresenceStore {
  /** Renew `node`'s lease for `leaseMs`. Returns the nodes alive, and false in `renewed` when the lease was gone (the store lost it, or it ran out). */
  beat(node: string, leaseMs: number): Promise<{ readonly live: readonly string[]; readonly renewed: boolean }>;
  /** Record that `node` holds `connections` to the group's session `group.sessionId` (0 removes it). */
  write(node: string, group: PresenceGroup, connections: number, ttlMs: number): Promise<void>;
  /** The group's sessions as every node but `node` sees them, connections summed per session. Deletes entries of dead nodes. */
  read(node: string, group: PresenceGroup, query: PresenceQuery): Promise<PresenceEntry[]>;
  /** End `node`'s lease (a graceful shutdown). */
  leave(node: string): Promise<void>;
}

/** One node's figures, as it reports them to the fleet. */
export interface NodeReport {
  readonly node: string;
  readonly connections: number;
  readonly sessions: number;
}

/** The fleet's totals over the nodes that reported recently. */
export interface FleetView {
  readonly nodes: number;
  readonly connections: number;
  readonly sessions: number;
}

/** The nodes of the fleet and their figures, for `/health` and `hello_ok.health`. */
export interface NodeRegistry {
  /**
   * Record this node's figures and return the fleet's, counting nodes that reported within
   * `freshMs`; undefined when this node is the whole fleet (health then describes the node alone).
   */
  report(report: NodeReport, freshMs: number): Promise<FleetView | undefined>;
}

/** Frames POSTed to one node for an HTTP-binding connection that another node holds. */
export interface RelayedFrames {
  /** The connection id (`<node id>.<random>`, PROTOCOL.md section 9). */
  readonly connection: string;
  /** ClientFrame lines, already checked, in the order they are to be handled. */
  readonly lines: readonly string[];
  /**
   * SHA-256 (base64url) of the token the POST presented, undefined when it presented none: the
   * holder compares it with its stream's, and the token itself never travels.
   */
  readonly tokenDigest: string | undefined;
}

/**
 * What the node holding a connection did with relayed frames, as the POST endpoint does with its
 * own: `delivered` (handed to the connection, in order), `unknown_connection` (it holds no open
 * connection with this id: dropped), `forbidden` (another token), `busy` (the connection is not
 * reading now: dropped, to be sent again).
 */
export type DeliveryOutcome = 'delivered' | 'unknown_connection' | 'forbidden' | 'busy';

/**
 * How a forward ended: the holder's {@link DeliveryOutcome} (`unknown_connection` also when no
 * live node has that id), `no_answer` when the holder did not answer within the fleet's deadline
 * (the frames may or may not have been handed over), or `overloaded` when this node already waits
 * on its bound of forwards (nothing was sent).
 */
export type ForwardOutcome = DeliveryOutcome | 'no_answer' | 'overloaded';

/**
 * Frames for a connection held by another node: with the HTTP binding a POST may reach any node
 * of the fleet, and only the node holding the stream can hand its frames to the connection. As
 * Centrifugo's emulation endpoint does, the node that got the POST forwards the frames and waits
 * for the holder's answer, so the POST is answered only once the frames were handed over (or
 * refused): the next POST of the connection, on whatever node, comes after them.
 */
export interface ConnectionRelay {
  /**
   * Take the frames other nodes forward to `node`'s connections, and the answers to this node's
   * own forwards. `deliver` hands frames to a connection and says how it went; it runs once per
   * forward, in the order the forwards were sent. Resolves once listening; the function it
   * resolves to stops.
   */
  serve(node: string, deliver: (frames: RelayedFrames) => DeliveryOutcome): Promise<Unsubscribe>;
  /**
   * Hand `frames` to `node`, the holder of `frames.connection`, and resolve with its answer.
   * Needs {@link ConnectionRelay.serve} first (the answer comes to this node). Rejects with a
   * `LogError` `unavailable` when the store cannot be reached.
   */
  forward(node: string, frames: RelayedFrames): Promise<ForwardOutcome>;
}

/** Is the store the log and the fleet run on answering? */
export interface StoreHealth {
  /**
   * False while the store cannot be reached or stopped answering (`/health` then reports
   * `degraded` with HTTP 503, and publishes fail at once). Always true in process memory.
   */
  isReachable(): boolean;
  /** Call `listener` with the latency (ms) of each round trip to the store. Returns an unsubscribe. */
  onRoundTrip(listener: (ms: number) => void): () => void;
}

/** Whether the writes this node acknowledges survive the store's restart or failover. */
export interface WriteDurability {
  /** True while a restart or failover of the store cannot lose an acknowledged write; false in process memory. */
  durableWrites(): boolean;
}

/**
 * The services the gateway nodes of a deployment share: pass one as `createGateway({ log, fleet })`
 * (createRedisFleet returns both). Every member is required; a single node's are local
 * (createLocalFleet, the default).
 */
export interface Fleet {
  readonly feed: LiveFeed;
  readonly presence: PresenceStore;
  readonly nodes: NodeRegistry;
  readonly relay: ConnectionRelay;
  readonly health: StoreHealth;
  readonly durability: WriteDurability;
  /**
   * Session caps counted for the whole fleet; createGateway uses them unless given `sessionCaps`.
   * A single node counts its own sessions.
   */
  sessionCaps(limits: SessionLimits): SessionCaps;
  /** Connect; createGateway awaits it (after the log's) before listening. Opening twice is harmless. */
  open(): Promise<void>;
  /** Release what the fleet holds; the gateway's close() awaits it before closing the log. */
  close(): Promise<void>;
}
