// createRedisFleet: the log and the fleet of a gateway node on Redis (or Redis Cluster), built on
// one pair of connections (connection.ts): the Redis Streams log (redis-log.ts), the live feed on
// sharded pub/sub (session-feed.ts), presence (presence.ts), the node registry
// (node-registry.ts), the relay of HTTP-binding frames between nodes (connection-relay.ts), session caps (session-caps.ts) and the durability monitor (durability.ts).
import type { Fleet } from '../fleet.js';
import type { SessionLimits } from '../session-caps.js';
import { createRedisConnection } from './connection.js';
import { createRedisConnectionRelay } from './connection-relay.js';
import type { DataClient } from './data-client.js';
import { createRedisDurability } from './durability.js';
import { sessionKeys, type SessionKeys } from './keys.js';
import { createRedisNodeRegistry } from './node-registry.js';
import { resolveRedisOptions, type RedisFleetOptions } from './options.js';
import { createRedisPresence } from './presence.js';
import { createRedisLogOn, type RedisLog } from './redis-log.js';
import { createRedisSessionCaps, type RedisSessionCaps } from './session-caps.js';
import { createRedisSessionFeed } from './session-feed.js';

/** A gateway node's log and fleet on Redis: pass both, `createGateway({ log, fleet })`. */
export interface RedisFleet {
  readonly log: RedisLog;
  readonly fleet: Fleet;
}

/**
 * {@link RedisFleet} with its connection and key layout, for the tests of this folder's parts. No
 * package entry exports it: the raw client would let an app write around the log.
 */
export interface RedisFleetInternals extends RedisFleet {
  /** The connection the scripts run on, for tests. */
  readonly client: DataClient;
  readonly keyPrefix: string;
  /** Keys of one session. */
  keys(sessionId: string): SessionKeys;
  readonly fleet: Omit<Fleet, 'sessionCaps'> & { sessionCaps(limits: SessionLimits): RedisSessionCaps };
}

/**
 * Create a gateway node's log and fleet on Redis, every node of a deployment on the same Redis
 * and `secret`. Nothing connects before `open()` (createGateway opens both; the log and the fleet
 * share their connections, so opening or closing either opens or closes them). While Redis is
 * unreachable every operation rejects at once with a `LogError` `unavailable`, and the connections
 * come back by themselves with capped backoff. Throws a RangeError for a bad option.
 * @example
 * const gateway = await createGateway({ ...createRedisFleet({ url: 'redis://127.0.0.1:6379', secret }), port: 8787 });
 */
export function createRedisFleet(options: RedisFleetOptions): RedisFleet {
  return createRedisFleetInternals(options);
}

/** {@link createRedisFleet}, with the internals the tests of this folder's parts reach. */
export function createRedisFleetInternals(options: RedisFleetOptions): RedisFleetInternals {
  const resolved = resolveRedisOptions(options);
  const connection = createRedisConnection(resolved);
  const durability = createRedisDurability(connection, resolved);
  const { keyPrefix, sessionTtlMs } = resolved;
  const keys = (sessionId: string): SessionKeys => sessionKeys(keyPrefix, sessionId);
  const open = async (): Promise<void> => {
    if (connection.client.isOpen) return;
    await connection.open();
    await durability.start();
  };
  const close = async (): Promise<void> => {
    durability.stop();
    await connection.close();
  };
  const { client, call } = connection;
  return {
    client,
    keyPrefix,
    keys,
    log: createRedisLogOn({ connection, durability, options: resolved, open, close }),
    fleet: {
      feed: createRedisSessionFeed(connection, keys, resolved.retryAfterMs),
      presence: createRedisPresence({ client, isCluster: resolved.isCluster, keyPrefix, call }),
      nodes: createRedisNodeRegistry(connection, keyPrefix, resolved.clock),
      relay: createRedisConnectionRelay(connection, {
        keyPrefix,
        commandTimeoutMs: resolved.deadlines.commandTimeoutMs,
        maxPendingForwards: resolved.maxPendingForwards,
        retryAfterMs: resolved.retryAfterMs,
        clock: resolved.clock,
      }),
      health: { isReachable: () => connection.isReachable(), onRoundTrip: (listener) => connection.onRoundTrip(listener) },
      durability,
      sessionCaps: (limits) => createRedisSessionCaps(client, limits, { keyPrefix, sessionTtlMs, call }),
      open,
      close,
    },
  };
}
