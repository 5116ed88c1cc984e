// Whether this node's writes survive a Redis restart or failover, as every script is told (its
// first argument, see scripts.ts). `replicated`: each publish WAITs for the replicas, so they do.
// `async`: only while every primary fsyncs each write (`appendonly yes`, `appendfsync always`),
// which Lua cannot read: this monitor reads it at open(), every `durabilityCheckMs` and whenever
// the connection is ready again, and a weakening takes effect at once.
import { every } from '../clock.js';
import { LogError } from '../event-log.js';
import type { WriteDurability } from '../fleet.js';
import type { RedisConnection } from './connection.js';
import type { ClusterClient as Cluster, StandaloneClient as Standalone } from './data-client.js';
import type { SessionKeys } from './keys.js';
import type { ResolvedRedisOptions } from './options.js';
import { isErrorReply } from './redis-link.js';

/** The durability of one node's writes, and the WAIT that makes them replicated. */
export interface RedisDurability extends WriteDurability {
  /** '1' while a write this node acknowledges cannot be lost by the store: the scripts' first argument. */
  flag(): '0' | '1';
  /** Check now, then every `durabilityCheckMs` (`async` only). Starting twice is harmless. */
  start(): Promise<void>;
  /** Stop the periodic check. */
  stop(): void;
  /** WAIT on the shard that holds the session's keys; resolves to the replicas that confirmed. */
  waitForReplicas(keys: SessionKeys): Promise<number>;
  /**
   * WAIT for the replicas a `replicated` publish needs, or reject `unavailable` naming how many
   * confirmed: no client may see the event until they do.
   */
  requireReplicas(keys: SessionKeys): Promise<void>;
}

/** Watch the durability of `connection`'s writes. */
export function createRedisDurability(connection: RedisConnection, options: ResolvedRedisOptions): RedisDurability {
  const { durability, replicas, waitTimeoutMs, retryAfterMs } = options;
  // `replicated`: WAIT guards every publish. `async`: read by check().
  let durable: '0' | '1' = durability === 'replicated' ? '1' : '0';
  let stopChecks: (() => void) | undefined;

  /**
   * Read `appendonly`/`appendfsync` on every primary: '1' only when all of them fsync each write.
   * A weakening takes effect at once; a Redis that refuses CONFIG (managed services) counts as weak.
   */
  async function check(): Promise<void> {
    try {
      const configs = await connection.link.run('durability check', async () => Promise.all((await connection.primaries()).map((node) => node.configGet('append*'))));
      durable = configs.every((c) => c['appendonly'] === 'yes' && c['appendfsync'] === 'always') ? '1' : '0';
    } catch (error) {
      // Unreachable: no write goes through until it is back (and 'ready' checks again).
      if (isErrorReply(error)) durable = '0';
    }
  }

  // A Redis that came back may run with another fsync policy: look at once, not at the next tick.
  connection.onReady(() => {
    if (durability === 'async' && connection.client.isOpen) void check();
  });

  async function waitForReplicas(keys: SessionKeys): Promise<number> {
    const args = ['WAIT', String(replicas), String(waitTimeoutMs)];
    const { client, isCluster } = connection;
    const acked = await connection.call(
      'wait',
      () => (isCluster ? (client as Cluster).sendCommand(keys.meta, false, args) : (client as Standalone).sendCommand(args)),
      waitTimeoutMs,
    );
    return Number(acked);
  }

  return {
    flag: () => durable,
    durableWrites: () => durable === '1',
    async start() {
      if (durability !== 'async') return;
      await check();
      stopChecks?.();
      stopChecks = every(options.clock, options.durabilityCheckMs, () => void check(), { unref: true });
    },
    stop() {
      stopChecks?.();
      stopChecks = undefined;
    },
    waitForReplicas,
    async requireReplicas(keys) {
      const acked = await waitForReplicas(keys);
      if (acked >= replicas) return;
      throw new LogError(
        'unavailable',
        `Only ${String(acked)} of ${replicas} replicas confirmed the event: no client sees it until they do (a retry or a later publish confirms it). Retry with the same idempotency key; without one a retry may publish it twice.`,
        retryAfterMs,
      );
    },
  };
}
