// The live feed's recovery on Redis Cluster. node-redis keeps one sharded pub/sub connection per
// master and re-subscribes by itself after a drop, but what was published meanwhile is gone, and
// it tells nobody. This module notices the re-subscriptions so the fan-out can catch up (readAfter).
//
// What node-redis 6 does (read from @redis/client cluster/cluster-slots.js, client/index.js):
// - a shard pub/sub connection drops (CLIENT KILL, master restart on the same address): the
//   client reconnects and re-sends SSUBSCRIBE in its socket initiator; its 'ready', which the
//   cluster re-emits as 'node-ready', comes only after those replies;
// - the master goes away (failover, MOVED on re-subscribe): the cluster rediscovers the slots and
//   re-subscribes on the new master's pub/sub client, which is created (and emits 'node-ready')
//   before that SSUBSCRIBE is answered;
// - a slot migrates (the server sends SUNSUBSCRIBE): the cluster re-subscribes on the new owner's
//   connection, which may already be ready: no event at all. That hole is repaired when the
//   session's next event arrives (the fan-out notices the gap), as before.
// So on every 'node-ready' this module re-issues SSUBSCRIBE for each held channel (a no-op for a
// channel already subscribed; otherwise it is answered after any re-subscription in flight on the
// same connection), and only then reports the feed restored. A report reaches every held session:
// 'node-ready' names a node, not channels, and a spurious catch-up costs one read per session.

/** The part of a node-redis cluster client this module uses. */
export interface ClusterFeedSource {
  on(event: 'node-ready', listener: () => void): unknown;
  off(event: 'node-ready', listener: () => void): unknown;
  sSubscribe(channel: string, listener: (message: string) => void): Promise<void>;
  sUnsubscribe(channel: string, listener: (message: string) => void): Promise<void>;
}

/** The channels a cluster feed holds, and its watch on the cluster. */
export interface ClusterFeed {
  /** Remember a subscription, to confirm it after a node comes back. */
  hold(channel: string, listener: (message: string) => void): void;
  /** Forget a subscription (unsubscribed). */
  drop(channel: string): void;
  /** Stop watching. */
  stop(): void;
}

/**
 * Watch `cluster` and call `onRestored` after each node connection became ready again and every
 * held channel is confirmed subscribed. Bursts of 'node-ready' coalesce into one more round.
 */
export function watchClusterFeed(cluster: ClusterFeedSource, onRestored: () => void, onError: (error: unknown) => void): ClusterFeed {
  const held = new Map<string, (message: string) => void>();
  let running = false;
  let again = false;
  let stopped = false;

  async function confirmAll(): Promise<void> {
    // Bounded: one pass per 'node-ready' burst; a failed SSUBSCRIBE is retried on the next one.
    const results = await Promise.allSettled(
      [...held].map(async ([channel, listener]) => {
        await cluster.sSubscribe(channel, listener);
        // Released meanwhile: take back what this confirmation re-added.
        if (held.get(channel) !== listener) await cluster.sUnsubscribe(channel, listener);
      }),
    );
    for (const result of results) if (result.status === 'rejected') onError(result.reason);
  }

  function onNodeReady(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    void (async () => {
      do {
        again = false;
        await confirmAll();
        if (!stopped) onRestored();
      } while (again && !stopped);
      running = false;
    })();
  }

  cluster.on('node-ready', onNodeReady);
  return {
    hold(channel, listener) {
      held.set(channel, listener);
    },
    drop(channel) {
      held.delete(channel);
    },
    stop() {
      stopped = true;
      held.clear();
      cluster.off('node-ready', onNodeReady);
    },
  };
}
