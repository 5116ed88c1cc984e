// Sessions this gateway process knows: who owns each, which connections are joined to it, and
// the queue that serialises its log access. The log holds the durable truth; this is the live view.
import type { PresenceEntry } from '../protocol/index.js';
import type { SessionRecord } from './event-log.js';
import type { LiveTail } from './live-tail.js';
import { createSerialQueue, type SerialQueue } from './serial-queue.js';

/** What a connection hears when its session was found gone with no reason given (ended elsewhere, expired). */
export const SESSION_GONE = 'The session no longer exists (it was ended or expired); reconnect as a new session.';

/** A joined connection, as a session sees it (its live events come through the session's tail). */
export interface Subscriber {
  /** The session was expired by the app: tell the client (`session_expired`) and close 4040. */
  expire(message: string): void;
  /** The session's history moved to a new epoch under this connection: close 1001 so it resumes. */
  restart(reason: string): void;
}

/** One session's live state. */
export interface LiveSession {
  readonly id: string;
  /** Set once the session has been loaded from (or created in) the log. */
  record: SessionRecord | undefined;
  /** Serialises appends, handshakes and snapshots for this session. */
  readonly queue: SerialQueue;
  readonly subscribers: Set<Subscriber>;
  /** Where live events reach the local connections; made when the first one joins. */
  live: LiveTail | undefined;
  /** When the session was first seen idle (no connection, no publish) by the expiry sweep. */
  idleSince: number | undefined;
}

/** A session as reported by `gateway.sessions()`. */
export interface SessionSummary {
  readonly id: string;
  readonly agentId: string;
  readonly epoch: string;
  /** Open connections joined to the session. */
  readonly connections: number;
}

/** The live session table. */
export interface SessionRegistry {
  /** The live entry for a session id, created empty if needed. */
  entry(sessionId: string): LiveSession;
  find(sessionId: string): LiveSession | undefined;
  /** Forget a live entry (after expiry). */
  remove(sessionId: string): void;
  /** Forget an entry that never got a record, if nothing uses it (no connection, no queued task). */
  discardIfUnused(sessionId: string): void;
  /** Every live entry. */
  all(): IterableIterator<LiveSession>;
  /** Sessions loaded in this process. */
  summaries(): SessionSummary[];
  /** Sessions with at least one connection, optionally for one agent. */
  presence(agentId?: string): PresenceEntry[];
  /** Joined connections across all sessions. */
  joinedConnections(): number;
  /** Sessions loaded in this process (those `summaries()` lists), without building the list. */
  sessionCount(): number;
}

/**
 * A live entry. Setting its `record` tells the registry, which keeps the count of loaded sessions
 * and an index by agent, so a join's `health` and presence cost O(1) and O(the agent's sessions),
 * not a scan of every session the node holds.
 */
class SessionEntry implements LiveSession {
  readonly queue: SerialQueue = createSerialQueue();
  readonly subscribers = new Set<Subscriber>();
  live: LiveTail | undefined = undefined;
  idleSince: number | undefined = undefined;
  private loaded: SessionRecord | undefined = undefined;

  constructor(
    readonly id: string,
    /** Creation order, so presence lists sessions in the order the registry made them. */
    readonly order: number,
    private readonly table: Registry,
  ) {}

  get record(): SessionRecord | undefined {
    return this.loaded;
  }

  set record(record: SessionRecord | undefined) {
    const before = this.loaded;
    this.loaded = record;
    this.table.recorded(this, before, record);
  }
}

/** The registry's tables: every entry, and the loaded ones counted and indexed by agent. */
class Registry implements SessionRegistry {
  private readonly sessions = new Map<string, SessionEntry>();
  private readonly byAgent = new Map<string, Set<SessionEntry>>();
  private loadedCount = 0;
  private made = 0;

  /** An entry's record changed: count and index it, while it is the registry's entry for its id. */
  recorded(entry: SessionEntry, before: SessionRecord | undefined, after: SessionRecord | undefined): void {
    if (this.sessions.get(entry.id) !== entry) return;
    if (before !== undefined) this.unindex(entry, before);
    if (after !== undefined) {
      this.loadedCount++;
      let agent = this.byAgent.get(after.agentId);
      if (!agent) this.byAgent.set(after.agentId, (agent = new Set()));
      agent.add(entry);
    }
  }

  private unindex(entry: SessionEntry, record: SessionRecord): void {
    this.loadedCount--;
    const agent = this.byAgent.get(record.agentId);
    agent?.delete(entry);
    if (agent?.size === 0) this.byAgent.delete(record.agentId);
  }

  entry(sessionId: string): LiveSession {
    let session = this.sessions.get(sessionId);
    if (!session) {
      session = new SessionEntry(sessionId, this.made++, this);
      this.sessions.set(sessionId, session);
    }
    return session;
  }

  find(sessionId: string): LiveSession | undefined {
    return this.sessions.get(sessionId);
  }

  remove(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    if (session.record !== undefined) this.unindex(session, session.record);
    this.sessions.delete(sessionId);
  }

  discardIfUnused(sessionId: string): void {
    const s = this.sessions.get(sessionId);
    if (s && s.record === undefined && s.subscribers.size === 0 && s.queue.pending === 0) this.sessions.delete(sessionId);
  }

  all(): IterableIterator<LiveSession> {
    return this.sessions.values();
  }

  summaries(): SessionSummary[] {
    const out: SessionSummary[] = [];
    for (const s of this.sessions.values()) {
      if (s.record) out.push({ id: s.id, agentId: s.record.agentId, epoch: s.record.epoch, connections: s.subscribers.size });
    }
    return out;
  }

  presence(agentId?: string): PresenceEntry[] {
    if (agentId === undefined) {
      return this.summaries()
        .filter((s) => s.connections > 0)
        .map((s) => ({ session_id: s.id, agent_id: s.agentId, connections: s.connections }));
    }
    const present = [...(this.byAgent.get(agentId) ?? [])].filter((s) => s.subscribers.size > 0);
    // In the registry's order, as a scan of every session would list them.
    present.sort((a, b) => a.order - b.order);
    return present.map((s) => ({ session_id: s.id, agent_id: agentId, connections: s.subscribers.size }));
  }

  sessionCount(): number {
    return this.loadedCount;
  }

  joinedConnections(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.subscribers.size;
    return n;
  }
}

/** Create an empty registry. */
export function createSessionRegistry(): SessionRegistry {
  return new Registry();
}
