// The fleet of a gateway that runs alone: the live feed is an in-process publish/subscribe that
// delivers this node's own appends, and the other services have nothing to share. The gateway
// runs the same code over it as over a Redis fleet, so nothing asks which kind it was given.
import type { Fleet, LiveEvent, LiveFeed } from './fleet.js';
import { createMemorySessionCaps } from './session-caps.js';

/** One subscription of the in-process feed. */
interface Listener {
  readonly onEvent: (event: LiveEvent) => void;
  readonly onEnded: (reason: string) => void;
}

/** The in-process feed: appends and ends reach this process's subscribers at once, in order. */
function createLocalFeed(): LiveFeed {
  // Small arrays replaced on subscribe and unsubscribe, not a Set per session: a node holds one
  // subscription per session it serves (the fan-out's), and a Set costs 150 bytes more than that.
  const bySession = new Map<string, readonly Listener[]>();
  return {
    async subscribe(sessionId, onEvent, onEnded) {
      const listener: Listener = { onEvent, onEnded };
      const listeners = bySession.get(sessionId);
      bySession.set(sessionId, listeners === undefined ? [listener] : [...listeners, listener]);
      return async () => {
        const current = bySession.get(sessionId);
        if (current === undefined || !current.includes(listener)) return;
        const rest = current.filter((l) => l !== listener);
        if (rest.length === 0) bySession.delete(sessionId);
        else bySession.set(sessionId, rest);
      };
    },
    appended(sessionId, event) {
      const listeners = bySession.get(sessionId);
      if (listeners) for (const listener of listeners) listener.onEvent(event);
    },
    async end(sessionId, reason) {
      for (const listener of [...(bySession.get(sessionId) ?? [])]) listener.onEnded(reason);
    },
    // Nothing between the publisher and the subscribers can drop: the feed is never interrupted.
    onRestored: () => () => undefined,
  };
}

/**
 * The fleet of a single gateway node, the default of `createGateway`: an in-process live feed,
 * presence and health from this node alone (no other node's sessions, no fleet totals, no other
 * node to relay an HTTP-binding POST to), a store that is always reachable and does not survive
 * the process, and caps that count this process's sessions. Each gateway gets its own unless one
 * is passed.
 */
export function createLocalFleet(): Fleet {
  return {
    feed: createLocalFeed(),
    // No other node: nothing to write, and nothing to read but this node's registry.
    presence: {
      beat: async (node) => ({ live: [node], renewed: true }),
      write: async () => undefined,
      read: async () => [],
      leave: async () => undefined,
    },
    nodes: { report: async () => undefined },
    // A node alone holds every connection it can route to: an id naming another node is unknown.
    relay: { serve: async () => async () => undefined, forward: async () => 'unknown_connection' },
    health: { isReachable: () => true, onRoundTrip: () => () => undefined },
    durability: { durableWrites: () => false },
    sessionCaps: (limits) => createMemorySessionCaps(limits),
    open: async () => undefined,
    close: async () => undefined,
  };
}
