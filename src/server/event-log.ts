// The storage seam of the gateway: per-session event history plus the session registry, and
// nothing else (the services a fleet of nodes shares are fleet.ts's). Every member is required and
// async-capable, so a shared store (Redis, SQL) can replace the in-memory log; a gateway
// restarted with the same log resumes every session without a gap.
import { randomUUID } from 'node:crypto';
import type { EventPayload } from '../protocol/index.js';

/** A new epoch id: random, so two gateway lifetimes (or two histories of a session) never share one. */
export function newEpoch(): string {
  return `e-${randomUUID()}`;
}

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
   * epoch's (PROTOCOL.md section 4). {@link EventLog.moveSeen} clears it. Always false for a log
   * that never moves a kept session, like the memory log.
   */
  readonly movedUnseen: boolean;
}

/**
 * `position` with the head a live feed stands at. Past the head read, the events the feed
 * delivered since are held too, so a position that held nothing now holds them from its old
 * head + 1 (left at 0, `oldest` would say `1..head` are gone, and a resume from 0 would get a gap).
 */
export function positionAt(position: LogPosition, head: number): LogPosition {
  if (head === position.head) return position;
  const oldest = head > position.head && position.oldest === 0 ? position.head + 1 : position.oldest;
  return { ...position, head, oldest };
}

/** What {@link EventLog.readAfter} returns: events with the history they belong to. */
export interface LogRead {
  /**
   * The session's epoch when the events were read. A reader that reads in several calls (a paced
   * replay, a repair of the live feed) compares it on each one: events of another epoch are
   * never a continuation of what it read before.
   */
  readonly epoch: string;
  /** Held events after the cursor, oldest first. */
  readonly events: readonly StoredEvent[];
}

/**
 * Who forgets idle sessions. `gateway`: the gateway deletes a session idle past its TTL
 * (`deleteSession`). `store`: the store expires them itself (key TTLs in a shared store), since
 * another node may hold connections to a session this one sees idle; the gateway then never
 * deletes one for idleness, and calls `touch` at least every `touchEveryMs` (Infinity: the store
 * keeps sessions forever) for the sessions it holds.
 */
export type SessionExpiry = { readonly by: 'gateway' } | { readonly by: 'store'; readonly touchEveryMs: number };

/** App state for `resync` snapshots, stamped with the head it reflects. */
export interface StoredState {
  readonly state: unknown;
  /** The head when the state was set: the snapshot describes history up to here. */
  readonly cursor: number;
}

/** The event to append; the log assigns `seq`, and the gateway fills `event_id` and `timestamp`. */
export type NewEvent = EventPayload;

/** One event for {@link EventLog.append}, with the app's idempotency key if it gave one. */
export interface AppendEntry {
  readonly event: NewEvent;
  /**
   * The app's key for this publish. A second append with the same key (a retry after a timeout
   * or an `unavailable` rejection, or the same key twice in one call) returns the first one's seq
   * instead of creating the event twice. Remembered for the replay window of the session.
   */
  readonly idempotencyKey?: string;
}

/** An appended event, with the history it belongs to. */
export interface AppendResult extends StoredEvent {
  readonly epoch: string;
  /** True when the idempotency key was seen before: nothing was appended, `seq` is the first one's. */
  readonly duplicate: boolean;
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
 * session; calls for different sessions may interleave. The services a fleet shares (the live
 * feed, presence, the node registry, session caps, the store's health) are the `Fleet`'s (fleet.ts),
 * passed beside the log: `createGateway({ log, fleet })`.
 */
export interface EventLog {
  /** Events kept per session for replay. */
  readonly replayWindow: number;
  /** Who forgets idle sessions: the gateway, or the store itself (see {@link SessionExpiry}). */
  readonly expiry: SessionExpiry;
  /** Connect; createGateway awaits it before listening. Rejects with a clear error if it cannot. Opening twice is harmless. */
  open(): Promise<void>;
  /** Release connections; the gateway's close() awaits it. */
  close(): Promise<void>;
  /**
   * The owner tag kept for a token, so the log never holds the token itself. A shared store uses
   * an HMAC keyed with a deployment secret, so that reading the store does not let anyone test
   * token guesses; the memory log a SHA-256 of the token.
   */
  ownerOf(token: string): string;
  /** The session, or undefined when this log has never seen it (or has lost it). */
  getSession(sessionId: string): SessionRecord | undefined | Promise<SessionRecord | undefined>;
  /**
   * Register a session with a fresh epoch. A log shared by several gateways may find that
   * another one created it meanwhile and return that record instead, so callers check its agent
   * and owner; a process-local log throws if it already exists.
   */
  createSession(sessionId: string, agentId: string, owner?: string): SessionRecord | Promise<SessionRecord>;
  /**
   * Forget a session and its history (idle past `sessionTtlMs`, or ended by the app). The gateway
   * then tells the nodes following it through the fleet's live feed (`LiveFeed.end`).
   */
  deleteSession(sessionId: string): void | Promise<void>;
  /** Every session this log holds. */
  listSessions(): readonly SessionRecord[] | Promise<readonly SessionRecord[]>;
  /** Keep these sessions alive (they have connections on this node); a no-op for `expiry.by === 'gateway'`. */
  touch(sessionIds: readonly string[]): void | Promise<void>;
  /**
   * Append a burst of events (at least one), in order, and return each with its seq; trims
   * history beyond the replay window. The gateway hands over every publish that queued for the
   * session while the previous burst was being stored (group commit), so that a shared store
   * spends one round trip per burst; one publish awaited at a time is a burst of one. All or
   * nothing: a failure rejects the whole burst, and a retry with the same keys is safe.
   */
  append(sessionId: string, entries: readonly AppendEntry[]): readonly AppendResult[] | Promise<readonly AppendResult[]>;
  /**
   * Events with `seq > cursor` still held, oldest first (at most `limit` when given), with the
   * epoch they belong to. Rejects (or throws) for a session the log does not hold.
   */
  readAfter(sessionId: string, cursor: number, limit?: number): LogRead | Promise<LogRead>;
  /** Epoch, oldest and head of a session's history. */
  position(sessionId: string): LogPosition | Promise<LogPosition>;
  /**
   * A join without an epoch was answered in `epoch`, the move to it told as a gap: clear
   * `movedUnseen`, unless the history has moved again since. A no-op for a log that never
   * reports `movedUnseen`.
   */
  moveSeen(sessionId: string, epoch: string): void | Promise<void>;
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
