// Presence across a fleet, over the fleet's presence store (Redis; a node alone has nothing to
// share, and its local store holds nothing). Each node writes its own
// connection count per session when it changes (a join, a leave) and renews one lease every
// `fleetReportMs`; a join reads the other nodes' counts for its group in one round trip, alongside
// its other log reads. A node that dies stops renewing, and readers ignore, then delete, its
// entries: the cost per interval is one call per node, not one per session.
import type { PresenceEntry } from '../protocol/index.js';
import { every, unrefTimer, type GatewayClock } from './clock.js';
import type { SessionRecord } from './event-log.js';
import type { PresenceGroup, PresenceStore } from './fleet.js';
import type { Logger } from 'pino';
import type { LiveSession, SessionRegistry } from './session-registry.js';

/** A node's entries stay in the store this long without a rewrite; a node rewrites them every quarter of it. */
const ENTRY_TTL_MS = 600_000;
/** How long close() waits for the last writes before giving up (the entries then lapse with the lease). */
const CLOSE_WAIT_MS = 1000;

/** What fleet presence needs from its gateway. */
export interface FleetPresenceHost {
  readonly store: PresenceStore;
  readonly registry: SessionRegistry;
  readonly clock: GatewayClock;
  readonly logger: Logger;
  /** This process in the store: the node id plus a per-process part, so a restarted node is a new one. */
  readonly node: string;
  /** Lease renewal period (`fleetReportMs`); a node silent for three of them is dead. */
  readonly intervalMs: number;
  /** Most sessions a read returns (`maxPresenceEntries`). */
  readonly limit: number;
}

/** This node's part in fleet-wide presence. */
export interface FleetPresence {
  /** Start renewing the lease (after the log is open). */
  start(): void;
  /** The session's connection count on this node changed: record it. */
  changed(session: LiveSession): void;
  /** The sessions of `record`'s group on other nodes; empty when the store cannot say. Never rejects. */
  others(record: SessionRecord): Promise<readonly PresenceEntry[]>;
  /** Stop renewing, wait (bounded) for the last writes, and end the lease. */
  close(): Promise<void>;
}

/** The presence group of a session. */
export function groupOf(record: SessionRecord): PresenceGroup {
  return { agentId: record.agentId, owner: record.owner, sessionId: record.sessionId };
}

/** Create this node's fleet presence over `host.store`. */
export function createFleetPresence(host: FleetPresenceHost): FleetPresence {
  const { store, registry, clock, logger, node, intervalMs, limit } = host;
  const leaseMs = intervalMs * 3;
  /** Sessions this node has a non-zero entry for, so a refresh or a lost store can rewrite them. */
  const written = new Map<string, PresenceGroup>();
  /** Entries to write at the next beat, with the count of that moment: failed writes, or all of them after a lapse. */
  const due = new Map<string, PresenceGroup>();
  const inFlight = new Set<Promise<void>>();
  let live: readonly string[] = [];
  /** When `live` was last confirmed (monotonic), or undefined before the first beat answered. */
  let liveAt: number | undefined;
  let lastRewrite = clock.now();
  let stopBeats: (() => void) | undefined;
  let closed = false;

  const write = (sessionId: string, group: PresenceGroup): void => {
    // The count as of sending: a later write always carries the latest, and Redis applies one connection's commands in order.
    const connections = registry.find(sessionId)?.subscribers.size ?? 0;
    if (connections > 0) written.set(sessionId, group);
    else written.delete(sessionId);
    const done = store.write(node, group, connections, ENTRY_TTL_MS).then(
      () => undefined,
      (error: unknown) => {
        due.set(sessionId, group);
        logger.debug({ session: sessionId, err: error instanceof Error ? error.message : String(error) }, 'presence write failed; retried at the next beat');
      },
    );
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  };

  const beat = async (): Promise<void> => {
    try {
      const answer = await store.beat(node, leaseMs);
      if (closed) return;
      live = answer.live;
      const lapsed = liveAt !== undefined && !answer.renewed;
      liveAt = clock.now();
      // A lapsed lease means others may have deleted this node's entries (or Redis lost them): write them all again.
      if (lapsed || clock.now() - lastRewrite >= ENTRY_TTL_MS / 4) {
        lastRewrite = clock.now();
        for (const [id, group] of written) due.set(id, group);
      }
      const retry = [...due];
      due.clear();
      for (const [id, group] of retry) write(id, group);
    } catch (error) {
      logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'presence lease renewal failed');
    }
  };
  let firstBeat: Promise<void> = Promise.resolve();

  return {
    start() {
      firstBeat = beat();
      stopBeats = every(clock, intervalMs, () => void beat(), { unref: true });
    },
    changed(session) {
      if (closed || session.record === undefined) return;
      write(session.id, groupOf(session.record));
    },
    async others(record) {
      await firstBeat;
      // Until a beat has answered, this node does not know who is alive: list this node alone.
      if (liveAt === undefined) return [];
      try {
        const fresh = clock.now() - liveAt <= intervalMs * 2;
        // One more than the cap, so the merge can tell a cut list from a full one.
        return await store.read(node, groupOf(record), { live, graceMs: leaseMs, limit: limit + 1, prune: fresh });
      } catch (error) {
        logger.warn({ session: record.sessionId, err: error instanceof Error ? error.message : String(error) }, 'presence read failed; listing this node only');
        return [];
      }
    },
    async close() {
      closed = true;
      stopBeats?.();
      let timer: unknown;
      const late = new Promise<void>((resolve) => {
        timer = clock.setTimeout(resolve, CLOSE_WAIT_MS);
        unrefTimer(timer); // a bounded shutdown grace: never what keeps a process alive
      });
      await Promise.race([Promise.all([...inFlight]).then(() => store.leave(node)).catch(() => undefined), late]);
      clock.clearTimeout(timer);
    },
  };
}

/**
 * Combine this node's presence with the other nodes': connections summed per session, the
 * client's own session first, at most `limit` entries. `capped` is true when some were left out.
 */
export function mergePresence(
  ownSessionId: string,
  local: readonly PresenceEntry[],
  others: readonly PresenceEntry[],
  limit: number,
): { readonly entries: PresenceEntry[]; readonly capped: boolean } {
  const bySession = new Map<string, PresenceEntry>();
  for (const entry of [...local, ...others]) {
    const seen = bySession.get(entry.session_id);
    bySession.set(entry.session_id, seen ? { ...seen, connections: seen.connections + entry.connections } : entry);
  }
  const own = bySession.get(ownSessionId);
  const entries = own ? [own] : [];
  for (const entry of bySession.values()) {
    if (entry.session_id !== ownSessionId && entries.length < limit) entries.push(entry);
  }
  return { entries, capped: bySession.size > entries.length };
}
