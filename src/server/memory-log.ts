// The embedded EventLog: everything in process memory. A gateway that restarts with a fresh
// memory log has lost every history, so each session it sees again gets a new epoch.
import { createHash } from 'node:crypto';
import { systemClock, type GatewayClock } from './clock.js';
import { CLAIMS_PRUNE_AT, newEpoch, type AppendResult, type EventLog, type LogPosition, type LogRead, type MessageClaim, type NewEvent, type SessionRecord, type StoredEvent, type StoredState } from './event-log.js';

/** Options for {@link createMemoryLog}. */
export interface MemoryLogOptions {
  /** Events kept per session for replay. @default 1000 */
  readonly replayWindow?: number;
  /** Client message ids remembered per session for de-duplication. @default 10000 */
  readonly dedupeWindow?: number;
  /** Source of epoch ids; each must differ from every other epoch. @default newEpoch */
  readonly newEpoch?: () => string;
  /** Time for message claim leases (its monotonic `now()`); createGateway passes its own. @default systemClock */
  readonly clock?: Pick<GatewayClock, 'now'>;
}

/** A client message in flight: who runs its handlers, and until when (`clock.now()`) its lease runs. */
interface Claim {
  owner: string;
  until: number;
}

interface SessionHistory {
  readonly record: SessionRecord;
  /** Held events; `events[i]` has seq `oldestSeq + i`. */
  events: StoredEvent[];
  head: number;
  // The three below are made on first use: most sessions never send a message or a keyed publish.
  /** Ids applied; insertion-ordered, so the oldest id is evicted first once the window is full. */
  messageIds: Set<string> | undefined;
  /** Ids in flight (docs/scaling.md, "Client messages"). */
  claims: Map<string, Claim> | undefined;
  /** Publish idempotency keys and the seq each produced; those older than the window are dropped. */
  publishKeys: Map<string, number> | undefined;
  state: StoredState | undefined;
}

/**
 * The owner tag for a token: a SHA-256 digest, so the log never holds the token itself. Sessions
 * remember it, and only the same token may resume them, so a leaked or guessed session id is
 * useless without the credentials that created it. (A log in process memory needs no secret:
 * whoever can read it can read the tokens in flight too.)
 */
function ownerOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** The gateway forgets idle sessions of a memory log (it is the only node that holds them). */
const EXPIRED_BY_GATEWAY = { by: 'gateway' } as const;

/**
 * Create the in-memory {@link EventLog}. Pass the same instance to a new gateway to simulate a
 * restart that kept its log; pass a fresh one to simulate a restart that lost it.
 */
export function createMemoryLog(options: MemoryLogOptions = {}): EventLog {
  const replayWindow = options.replayWindow ?? 1000;
  const dedupeWindow = options.dedupeWindow ?? 10_000;
  if (!Number.isInteger(replayWindow) || replayWindow < 1) throw new RangeError(`replayWindow must be a positive integer, got ${String(replayWindow)}`);
  if (!Number.isInteger(dedupeWindow) || dedupeWindow < 1) throw new RangeError(`dedupeWindow must be a positive integer, got ${String(dedupeWindow)}`);
  const epochOf = options.newEpoch ?? newEpoch;
  const clock = options.clock ?? systemClock;
  const sessions = new Map<string, SessionHistory>();

  function history(sessionId: string): SessionHistory {
    const found = sessions.get(sessionId);
    if (!found) throw new RangeError(`Unknown session ${sessionId}`);
    return found;
  }

  function rememberKey(h: SessionHistory, key: string, seq: number): void {
    const keys = (h.publishKeys ??= new Map());
    keys.set(key, seq);
    if (keys.size <= replayWindow * 2) return;
    for (const [k, s] of keys) if (s <= h.head - replayWindow) keys.delete(k);
  }

  /** Append one event to `h`, or find the first append of its idempotency key. */
  function appendOne(h: SessionHistory, event: NewEvent, key: string | undefined): AppendResult {
    const done = key === undefined ? undefined : h.publishKeys?.get(key);
    if (done !== undefined) return { seq: done, event, epoch: h.record.epoch, duplicate: true };
    const stored: StoredEvent = { seq: h.head + 1, event };
    h.head = stored.seq;
    h.events.push(stored);
    // Trim in chunks rather than shift() per event: shift is O(n) on large arrays.
    if (h.events.length >= replayWindow * 2) h.events = h.events.slice(h.events.length - replayWindow);
    if (key !== undefined) rememberKey(h, key, stored.seq);
    // Spelled out: V8's spread of `stored` here was 7x slower than the whole append without it.
    return { seq: stored.seq, event, epoch: h.record.epoch, duplicate: false };
  }

  function oldestOf(h: SessionHistory): number {
    return h.events[0]?.seq ?? 0;
  }

  return {
    replayWindow,
    expiry: EXPIRED_BY_GATEWAY,
    open: async () => undefined,
    close: async () => undefined,
    ownerOf,
    getSession: (sessionId) => sessions.get(sessionId)?.record,
    createSession(sessionId, agentId, owner) {
      if (sessions.has(sessionId)) throw new RangeError(`Session ${sessionId} already exists`);
      const record: SessionRecord = { sessionId, agentId, epoch: epochOf(), ...(owner === undefined ? {} : { owner }) };
      sessions.set(sessionId, { record, events: [], head: 0, messageIds: undefined, claims: undefined, publishKeys: undefined, state: undefined });
      return record;
    },
    deleteSession(sessionId) {
      sessions.delete(sessionId);
    },
    listSessions: () => [...sessions.values()].map((h) => h.record),
    // The gateway expires idle sessions itself (EXPIRED_BY_GATEWAY): nothing to keep alive.
    touch: () => undefined,
    append(sessionId, entries): AppendResult[] {
      const h = history(sessionId);
      const results: AppendResult[] = [];
      for (const entry of entries) results.push(appendOne(h, entry.event, entry.idempotencyKey));
      return results;
    },
    readAfter(sessionId, cursor, limit): LogRead {
      const h = history(sessionId);
      const firstHeld = Math.max(h.head - replayWindow + 1, oldestOf(h));
      const from = Math.max(cursor + 1, firstHeld) - oldestOf(h);
      const to = limit === undefined ? h.events.length : Math.min(h.events.length, from + limit);
      return { epoch: h.record.epoch, events: from >= h.events.length ? [] : h.events.slice(from, to) };
    },
    position(sessionId): LogPosition {
      const h = history(sessionId);
      const oldest = h.head === 0 ? 0 : Math.max(h.head - replayWindow + 1, oldestOf(h));
      // A kept session never moves to another epoch here: a lost memory log is a new log.
      return { epoch: h.record.epoch, oldest, head: h.head, movedUnseen: false };
    },
    moveSeen: () => undefined,
    claimMessage(sessionId, messageId, holder): MessageClaim {
      const h = history(sessionId);
      if (h.messageIds?.has(messageId) === true) return { status: 'applied' };
      const now = clock.now();
      const claims = (h.claims ??= new Map());
      const held = claims.get(messageId);
      if (held && held.owner !== holder.owner && held.until > now) return { status: 'in_flight', leaseLeftMs: held.until - now };
      if (!held && claims.size >= CLAIMS_PRUNE_AT) {
        for (const [id, claim] of claims) if (claim.until <= now) claims.delete(id);
      }
      claims.set(messageId, { owner: holder.owner, until: now + holder.leaseMs });
      return { status: 'claimed', takenOver: held !== undefined && held.owner !== holder.owner };
    },
    renewMessageClaim(sessionId, messageId, holder) {
      const held = sessions.get(sessionId)?.claims?.get(messageId);
      if (held?.owner !== holder.owner) return false;
      held.until = clock.now() + holder.leaseMs;
      return true;
    },
    recordMessageApplied(sessionId, messageId, owner) {
      const h = history(sessionId);
      const held = h.claims?.get(messageId)?.owner === owner;
      if (held) h.claims?.delete(messageId);
      const ids = (h.messageIds ??= new Set());
      ids.add(messageId);
      if (ids.size > dedupeWindow) {
        const first = ids.values().next();
        if (first.done !== true) ids.delete(first.value);
      }
      return held;
    },
    setState(sessionId, state) {
      const h = history(sessionId);
      h.state = { state, cursor: h.head };
      return h.state;
    },
    getState: (sessionId) => history(sessionId).state,
  };
}
