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

/** Create an empty registry. */
export function createSessionRegistry(): SessionRegistry {
  const sessions = new Map<string, LiveSession>();

  const summaries = (): SessionSummary[] => {
    const out: SessionSummary[] = [];
    for (const s of sessions.values()) {
      if (s.record) out.push({ id: s.id, agentId: s.record.agentId, epoch: s.record.epoch, connections: s.subscribers.size });
    }
    return out;
  };

  return {
    entry(sessionId) {
      let session = sessions.get(sessionId);
      if (!session) {
        session = { id: sessionId, record: undefined, queue: createSerialQueue(), subscribers: new Set(), live: undefined, idleSince: undefined };
        sessions.set(sessionId, session);
      }
      return session;
    },
    find: (sessionId) => sessions.get(sessionId),
    remove: (sessionId) => {
      sessions.delete(sessionId);
    },
    discardIfUnused(sessionId) {
      const s = sessions.get(sessionId);
      if (s && s.record === undefined && s.subscribers.size === 0 && s.queue.pending === 0) sessions.delete(sessionId);
    },
    all: () => sessions.values(),
    summaries,
    presence(agentId) {
      return summaries()
        .filter((s) => s.connections > 0 && (agentId === undefined || s.agentId === agentId))
        .map((s) => ({ session_id: s.id, agent_id: s.agentId, connections: s.connections }));
    },
    sessionCount() {
      let n = 0;
      for (const s of sessions.values()) if (s.record) n++;
      return n;
    },
    joinedConnections() {
      let n = 0;
      for (const s of sessions.values()) n += s.subscribers.size;
      return n;
    },
  };
}
