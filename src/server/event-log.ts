// The storage seam of the gateway: per-session event history plus the session registry.
// Kept small and async-capable so a shared store (Redis, SQL) can replace the in-memory log;
// a gateway restarted with the same log resumes every session without a gap.
import type { EventPayload, PresenceEntry } from '../protocol/index.js';
import type { SessionCaps, SessionLimits } from './session-caps.js';

/** One event as held in a session's history. */
export interface StoredEvent {
  /** Per-session number, monotonic from 1 and never reused within an epoch. */
  readonly seq: number;
  readonly event: EventPayload;
}

/** A session as the log knows it: who owns it and which history it follows. */
export interface SessionRecord {
  readonly sessionId: string;
  /** A session belongs to exactly one agent; resuming it as another agent is refused. */
  readonly agentId: string;
  /** Identity of this session's history; a new one whenever that history is lost. */
  readonly epoch: string;
  /**
   * Hash of the credentials that created the session (see `ownerOf`), or undefined for a session
   * created without a token. Only the same credentials may resume it.
   */
  readonly owner?: string;
}

/** Where a session's history stands, read in one call so a shared store can answer atomically. */
export interface LogPosition {
  readonly epoch: string;
  /** Oldest seq still held for replay; 0 while the log is empty. */
  readonly oldest: number;
  /** Newest seq appended; 0 while the log is empty. */
  readonly head: number;
  /**
   * True when the session's history moved to this epoch while the session was kept (a store
   * that lost writes) and no resume without an epoch has been answered since: a `since` sent
   * without an epoch may then count events of the lost history, so it is treated as another
   * epoch's (PROTOCOL.md section 4). A log that reports it implements {@link EventLog.moveSeen}.
   * @default false (a log that never moves a kept session, like the memory log)
   */
  readonly movedUnseen?: boolean;
}

/** App state for `resync` snapshots, stamped with the head it reflects. */
export interface StoredState {
  readonly state: unknown;
  /** The head when the state was set: the snapshot describes history up to here. */
  readonly cursor: number;
}

/** The event to append; the log assigns `seq`, and the gateway fills `event_id` and `timestamp`. */
export type NewEvent = EventPayload;

/** Options for {@link EventLog.append}. */
export interface AppendOptions {
  /**
   * The app's key for this publish. A second append with the same key (a retry after a timeout
   * or an `unavailable` rejection) returns the first one's seq instead of creating the event
   * twice. Remembered for the replay window of the session.
   */
  readonly idempotencyKey?: string;
}

/** An appended event, with the history it belongs to. */
export interface AppendResult extends StoredEvent {
  readonly epoch: string;
  /** True when the idempotency key was seen before: nothing was appended, `seq` is the first one's. */
  readonly duplicate: boolean;
}

/** An event as the live feed carries it: with the history it belongs to. */
export interface LiveEvent extends StoredEvent {
  readonly epoch: string;
}

/** One node's figures, as it reports them to a shared log. */
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
 * new one), and a node counts as alive while its lease runs.
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

/** Who asks for a client message claim, and how long the claim lasts unless renewed. */
export interface ClaimHolder {
  /** One gateway process (`<nodeId>/<random>`): a restarted node is a new owner. */
  readonly owner: string;
  readonly leaseMs: number;
}

/**
 * What {@link EventLog.claimMessage} found (docs/scaling.md, "Client messages").
 * - `claimed`: the message is now in flight under the asking owner: run the handlers, then
 *   {@link EventLog.recordMessageApplied}. `takenOver` when it was in flight under a lapsed
 *   lease (its owner died or lost the store).
 * - `applied`: a node finished the handlers before; acknowledge it as a duplicate.
 * - `in_flight`: another owner's lease is live, for `leaseLeftMs` more (its handlers may be
 *   running); the client is told to resend shortly.
 */
export type MessageClaim =
  | { readonly status: 'claimed'; readonly takenOver: boolean }
  | { readonly status: 'applied' }
  | { readonly status: 'in_flight'; readonly leaseLeftMs: number };

/**
 * Claims in flight per session past which a claim prunes the lapsed ones (claims of dead owners
 * whose message was never resent). A lapsed claim and no claim mean the same to the next resend.
 */
export const CLAIMS_PRUNE_AT = 64;

/** Ends a live-feed subscription. */
export type Unsubscribe = () => Promise<void>;

/** Codes a log operation can fail with. */
export type LogErrorCode = 'unavailable' | 'session_not_found';

/**
 * A typed failure of a log operation. `unavailable`: the store cannot be reached (or did not
 * confirm a write); nothing was lost, retry after `retryAfterMs` (with the same idempotency key
 * for a publish). `session_not_found`: the store does not hold the session.
 */
export class LogError extends Error {
  override readonly name = 'LogError';
  constructor(
    readonly code: LogErrorCode,
    message: string,
    /** When to retry an `unavailable` operation. */
    readonly retryAfterMs = 1000,
  ) {
    super(message);
  }
}

/**
 * Per-session event history with a bounded replay window, plus the session registry.
 *
 * The gateway serialises all calls for one session, so an implementation need not lock per
 * session; calls for different sessions may interleave.
 */
export interface EventLog {
  /** Events kept per session for replay. */
  readonly replayWindow: number;
  /** The session, or undefined when this log has never seen it (or has lost it). */
  getSession(sessionId: string): SessionRecord | undefined | Promise<SessionRecord | undefined>;
  /**
   * Register a session with a fresh epoch. A log shared by several gateways may find that
   * another one created it meanwhile and return that record instead, so callers check its agent
   * and owner; a process-local log throws if it already exists.
   */
  createSession(sessionId: string, agentId: string, owner?: string): SessionRecord | Promise<SessionRecord>;
  /**
   * The owner tag kept for a token, so the log never holds the token itself. A shared store uses
   * an HMAC keyed with a deployment secret, so that reading the store does not let anyone test
   * token guesses. Omitted: a SHA-256 of the token (fine while the log lives in process memory).
   */
  ownerOf?(token: string): string;
  /**
   * True when the log expires idle sessions itself (key TTLs in a shared store): the gateway then
   * never deletes a session for idleness, since another node may hold connections to it, and
   * calls `touch` for the sessions it holds instead.
   */
  readonly expiresSessions?: boolean;
  /** Keep these sessions alive (they have connections on this node). */
  touch?(sessionIds: readonly string[]): void | Promise<void>;
  /**
   * How often `touch` must be called for a held session not to expire (a fraction of the store's
   * TTL). The gateway touches at least this often, whatever its own TTL options say. Omitted: no
   * expiry in the store.
   */
  readonly touchEveryMs?: number;
  /**
   * Session caps counted in this store, for the whole fleet sharing it. createGateway uses them
   * unless given `sessionCaps`. Omitted: the gateway counts its own sessions.
   */
  sessionCaps?(limits: SessionLimits): SessionCaps;
  /**
   * Live events of one session, appended by any node sharing this log, each delivered at most
   * once and usually in order (pub/sub: the gateway repairs holes and order from `readAfter`).
   * `onEnded` hears that some node ended the session (`deleteSession` with its reason), so every
   * node's connections to it end too. Resolves once the subscription is active. Omitted (the
   * memory log): the gateway delivers its own appends directly.
   */
  subscribe?(sessionId: string, onEvent: (event: LiveEvent) => void, onEnded?: (reason: string) => void): Promise<Unsubscribe>;
  /**
   * Call `listener` whenever the live feed came back after an interruption (events may have been
   * missed meanwhile). Returns a function that removes the listener.
   */
  onFeedRestored?(listener: () => void): () => void;
  /**
   * Record this node's figures and return the fleet's, counting nodes that reported within
   * `freshMs`. Omitted for a process-local log (the fleet is this node).
   */
  reportNode?(report: NodeReport, freshMs: number): Promise<FleetView>;
  /**
   * Fleet-wide presence in the shared store. Omitted (the memory log): presence is this node's
   * session registry.
   */
  readonly presence?: PresenceStore;
  /** Call `listener` with the latency (ms) of each round trip to the store. Returns an unsubscribe. */
  onRoundTrip?(listener: (ms: number) => void): () => void;
  /**
   * False while the store cannot be reached or stopped answering (`/health` then reports
   * `degraded` with HTTP 503, and publishes fail at once). Omitted: always reachable.
   */
  isReachable?(): boolean;
  /** Connect; createGateway awaits it before listening. Rejects with a clear error if it cannot. */
  open?(): Promise<void>;
  /** Release connections; the gateway's close() awaits it. */
  close?(): Promise<void>;
  /**
   * Forget a session and its history (idle past `sessionTtlMs`, or ended by the app). A shared
   * store also tells every node subscribed to it, with `reason` (see `subscribe`). Optional: a
   * shared store may expire sessions on its own terms.
   */
  deleteSession?(sessionId: string, reason?: string): void | Promise<void>;
  /** Every session this log holds. */
  listSessions(): readonly SessionRecord[] | Promise<readonly SessionRecord[]>;
  /** Append an event and return it with its seq; trims history beyond the replay window. */
  append(sessionId: string, event: NewEvent, options?: AppendOptions): AppendResult | Promise<AppendResult>;
  /** Events with `seq > cursor` still held, oldest first (at most `limit` when given). */
  readAfter(sessionId: string, cursor: number, limit?: number): readonly StoredEvent[] | Promise<readonly StoredEvent[]>;
  /** Epoch, oldest and head of a session's history. */
  position(sessionId: string): LogPosition | Promise<LogPosition>;
  /**
   * A join without an epoch was answered in `epoch`, the move to it told as a gap: clear
   * `movedUnseen`, unless the history has moved again since. Omitted: the log never reports
   * `movedUnseen`.
   */
  moveSeen?(sessionId: string, epoch: string): void | Promise<void>;
  /**
   * Claim a client message id for `holder` (see {@link MessageClaim}): free ids, ids in flight
   * under a lapsed lease and ids in flight under this very owner (one it is not running: its
   * caller checks) become in flight under `holder` for `holder.leaseMs`. Applied ids are kept in
   * the log (bounded per session) so a gateway restarted with its log still applies a resend once.
   */
  claimMessage(sessionId: string, messageId: string, holder: ClaimHolder): MessageClaim | Promise<MessageClaim>;
  /**
   * Extend `holder`'s claim by `holder.leaseMs` from now, while its handlers run. False when the
   * owner no longer holds it (taken over after a lapse, or gone with the session). May run
   * outside the session's order.
   */
  renewMessageClaim(sessionId: string, messageId: string, holder: ClaimHolder): boolean | Promise<boolean>;
  /**
   * The handlers finished: remember the id as applied and drop the claim. False when `owner` no
   * longer held the claim (another owner took it over: the message may be applied twice).
   */
  recordMessageApplied(sessionId: string, messageId: string, owner: string): boolean | Promise<boolean>;
  /** Store the app state that `resync` returns, stamped with the current head. */
  setState(sessionId: string, state: unknown): StoredState | Promise<StoredState>;
  /** The last state set, or undefined. */
  getState(sessionId: string): StoredState | undefined | Promise<StoredState | undefined>;
}
