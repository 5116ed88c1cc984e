// The Redis fleet's pub/sub: sharded pub/sub on a connection of its own (a subscribed RESP2
// connection runs nothing else; a cluster client keeps per-shard pub/sub connections itself).
// It has its own link (redis-link.ts), so a feed that stopped answering is noticed and replaced
// like the data connection, and it reports each return of the feed, after which what was
// published meanwhile must be read from the log. session-feed.ts is the fleet's live feed on it.
import type { GatewayClock } from '../clock.js';
import { watchClusterFeed, type ClusterFeed } from './cluster-feed.js';
import type { ClusterClient as Cluster, DataClient, StandaloneClient as Standalone } from './data-client.js';
import { createRedisLink, type RedisDeadlines, type RedisLink } from './redis-link.js';

/** Options for {@link createPubSub}. */
export interface PubSubOptions {
  readonly client: DataClient;
  readonly isCluster: boolean;
  /** The data connection's link: a cluster's feed runs on the same client. */
  readonly dataLink: RedisLink;
  readonly deadlines: RedisDeadlines;
  readonly clock: GatewayClock;
}

/** Ends one subscription. */
export type FeedUnsubscribe = () => Promise<void>;

/** The pub/sub connection of one node. */
export interface PubSub {
  /** Subscribe `onMessage` to a sharded channel; resolves once Redis confirmed it. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<FeedUnsubscribe>;
  /** Call `listener` each time the feed came back after an interruption. */
  onRestored(listener: () => void): () => void;
  /** Is the feed answering (true until its connection first opened: nothing to miss yet)? */
  isUp(): boolean;
  /** Drop the feed connection. */
  close(): Promise<void>;
}

/** Create the pub/sub; its connection opens at the first subscription. */
export function createPubSub(options: PubSubOptions): PubSub {
  const { client, isCluster, dataLink, deadlines, clock } = options;
  const restoredListeners = new Set<() => void>();
  const restored = (): void => {
    for (const listener of restoredListeners) listener();
  };
  let connection: Promise<{ readonly sub: DataClient; readonly link: RedisLink }> | undefined;
  let clusterFeed: ClusterFeed | undefined;
  let standaloneLink: RedisLink | undefined;
  // Held from the moment it exists: close() must end it even while its first connect still
  // retries (Redis down), or it would reconnect forever after the fleet closed.
  let standalone: Standalone | undefined;
  // Until the feed connection first opened there is nothing to miss: it is not down.
  let connectedOnce = false;
  // Subscriptions whose SUNSUBSCRIBE could not be sent (the feed was down): node-redis would
  // re-subscribe them at every reconnect, so they are sent again once it is back.
  const leftover = new Map<(message: string) => void, string>();

  function connectCluster(): { sub: DataClient; link: RedisLink } {
    const cluster = client as Cluster;
    // Per-shard pub/sub connections re-subscribe by themselves: see cluster-feed.ts for how the
    // log learns that they did. Its SSUBSCRIBEs have the data link's deadline.
    clusterFeed = watchClusterFeed(
      {
        on: (event, listener) => cluster.on(event, listener),
        off: (event, listener) => cluster.off(event, listener),
        sSubscribe: (channel, listener) => dataLink.run('resubscribe', () => cluster.sSubscribe(channel, listener)),
        sUnsubscribe: (channel, listener) => dataLink.run('unsubscribe', () => cluster.sUnsubscribe(channel, listener)),
      },
      restored,
      () => undefined, // a channel left unconfirmed is repaired at its next event, or the next node-ready
    );
    return { sub: client, link: dataLink };
  }

  async function connectStandalone(): Promise<{ sub: DataClient; link: RedisLink }> {
    const sub = (client as Standalone).duplicate();
    standalone = sub;
    const link = createRedisLink('feed', { ping: () => sub.ping() }, deadlines, clock);
    standaloneLink = link;
    sub.on('error', (error: unknown) => link.failed(error)); // node-redis reconnects by itself
    sub.on('ready', () => {
      link.ready();
      // node-redis resubscribes after a reconnect, but what was published meanwhile is gone.
      if (connectedOnce) {
        for (const [listener, channel] of leftover) void unsubscribe(sub, link, channel, listener);
        restored();
      }
      connectedOnce = true;
    });
    link.start();
    await sub.connect();
    return { sub, link };
  }

  async function unsubscribe(sub: DataClient, link: RedisLink, channel: string, listener: (message: string) => void): Promise<void> {
    leftover.set(listener, channel);
    try {
      await link.run('unsubscribe', () => sub.sUnsubscribe(channel, listener));
      leftover.delete(listener);
    } catch {
      // Sent again when the feed is back.
    }
  }

  return {
    async subscribe(channel, onMessage) {
      if (connection === undefined) {
        const opening = isCluster ? Promise.resolve(connectCluster()) : connectStandalone();
        connection = opening;
        // A connection closed before it opened is opened again by the next subscription.
        opening.catch(() => {
          if (connection === opening) connection = undefined;
        });
      }
      const opening = connection;
      // Its first connect gets the data link's deadline: a feed that cannot connect refuses the join.
      const { sub, link } = await dataLink.run('subscribe', () => opening);
      // Once unsubscribed, nothing more is delivered, even if node-redis still holds the listener.
      let active = true;
      const listener = (message: string): void => {
        if (active) onMessage(message);
      };
      await link.run('subscribe', () => sub.sSubscribe(channel, listener));
      clusterFeed?.hold(channel, listener);
      return async () => {
        active = false;
        clusterFeed?.drop(channel);
        await unsubscribe(sub, link, channel, listener);
      };
    },
    onRestored(listener) {
      restoredListeners.add(listener);
      return () => {
        restoredListeners.delete(listener);
      };
    },
    // The first connect is the first subscription's to wait for (under the data link's deadline);
    // publishes and /health need not fail meanwhile.
    isUp: () => !connectedOnce || (standaloneLink?.isUp() ?? true),
    async close() {
      standaloneLink?.stop();
      clusterFeed?.stop();
      connection = undefined;
      leftover.clear();
      // The feed connection has nothing worth waiting for, not even its first connect.
      const sub = standalone;
      standalone = undefined;
      if (sub?.isOpen) sub.destroy();
    },
  };
}
