// The options of a Redis fleet (log and fleet services on one Redis or Redis Cluster), their
// defaults, and validation: a bad value throws a RangeError at construction, never later.
import { systemClock, type GatewayClock } from '../clock.js';
import { newEpoch } from '../event-log.js';
import type { RedisDeadlines } from './redis-link.js';

/** How much a publish waits for before it resolves. */
export type Durability = 'async' | 'replicated';

/** Options for `createRedisFleet`. */
export interface RedisFleetOptions {
  /** A Redis URL (`redis://host:port`), or several Redis Cluster root nodes. */
  readonly url?: string | readonly string[];
  /** Treat `url` as Redis Cluster root nodes. @default true when `url` is a list */
  readonly cluster?: boolean;
  /**
   * HMAC key for the owner digests kept in Redis, shared by every node of the deployment. Without
   * it anyone who can read Redis could test token guesses against a bare hash. Required.
   */
  readonly secret: string;
  /** Events kept per session (stream MAXLEN). @default 1000 */
  readonly replayWindow?: number;
  /** Client message ids remembered per session. @default 10000 */
  readonly dedupeWindow?: number;
  /** Idle sessions expire with their keys after this long; nodes refresh the sessions they hold. 0: never. @default 3600000 */
  readonly sessionTtlMs?: number;
  /**
   * `async`: a publish resolves once the primary has it; a failover to a replica or a restart
   * without `appendfsync always` may lose it, which the next join or publish turns into a new
   * epoch (an honest gap). `replicated`: each publish also WAITs for `replicas` replicas (one
   * more round trip), so a promoted replica keeps the epoch. @default 'async'
   */
  readonly durability?: Durability;
  /** Replicas a `replicated` publish waits for. @default 1 */
  readonly replicas?: number;
  /** How long a `replicated` publish waits for them. @default 1000 */
  readonly waitTimeoutMs?: number;
  /**
   * `async` only: how often the node re-reads Redis's `appendonly`/`appendfsync` (CONFIG GET;
   * Lua cannot), so that a weakening at run time (`CONFIG SET appendfsync everysec`) stops
   * sessions from being marked durable. Writes in between are still marked durable: this is
   * the window in which a restart could lose them unnoticed. @default 1000
   */
  readonly durabilityCheckMs?: number;
  /** Prefix of every key. @default 'lifeline:' */
  readonly keyPrefix?: string;
  /** Source of epoch ids. @default newEpoch */
  readonly newEpoch?: () => string;
  /** Delay before a refused `unavailable` operation should be retried. @default 1000 */
  readonly retryAfterMs?: number;
  /**
   * How long any one Redis call may wait for its answer. Past it the call rejects `unavailable`,
   * the node counts Redis as unreachable (every call then fails at once, `/health` answers 503)
   * and replaces the connection: a route that stopped forwarding, or a Redis stopped with
   * SIGSTOP, never closes the socket by itself. A replicated publish's WAIT gets `waitTimeoutMs`
   * more. @default 2000
   */
  readonly commandTimeoutMs?: number;
  /** How often each connection is checked with a PING, so an idle node notices too. @default 1000 */
  readonly pingIntervalMs?: number;
  /** Calls waiting for Redis at once, per connection; one more rejects `unavailable` at once. @default 10000 */
  readonly maxPendingCalls?: number;
  /**
   * HTTP-binding POSTs this node forwards to the node that holds their stream and waits on at
   * once; one more is answered `429` at once. @default 1000
   */
  readonly maxPendingForwards?: number;
  /** How long `open()` keeps trying to reach Redis before it rejects `unavailable`. @default 30000 */
  readonly connectTimeoutMs?: number;
  /** Called for each failed attempt of `open()` to reach Redis (it keeps trying until `connectTimeoutMs`). */
  readonly onConnectFailed?: (cause: Error) => void;
  /**
   * Time for the fleet's own timers (the durability check, the close grace) and round-trip
   * timings; pass the gateway's `clock` when it is not the default. @default systemClock
   */
  readonly clock?: GatewayClock;
}

/** {@link RedisFleetOptions} with every default applied and checked. */
export interface ResolvedRedisOptions {
  readonly urls: readonly string[];
  readonly isCluster: boolean;
  readonly secret: string;
  readonly replayWindow: number;
  readonly dedupeWindow: number;
  /** Key TTL in ms; 0: none. */
  readonly sessionTtlMs: number;
  readonly durability: Durability;
  readonly replicas: number;
  readonly waitTimeoutMs: number;
  readonly durabilityCheckMs: number;
  readonly keyPrefix: string;
  readonly newEpoch: () => string;
  readonly retryAfterMs: number;
  readonly deadlines: RedisDeadlines;
  readonly maxPendingForwards: number;
  readonly connectTimeoutMs: number;
  readonly onConnectFailed: (cause: Error) => void;
  readonly clock: GatewayClock;
}

function positiveInt(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

/** Apply the defaults and check every value; throws a RangeError naming the bad one. */
export function resolveRedisOptions(options: RedisFleetOptions): ResolvedRedisOptions {
  if (typeof options.secret !== 'string' || options.secret.length < 16) {
    throw new RangeError('createRedisFleet needs `secret`, at least 16 characters shared by every node (owner digests are HMACs keyed with it).');
  }
  const retryAfterMs = options.retryAfterMs ?? 1000;
  return {
    urls: typeof options.url === 'string' ? [options.url] : [...(options.url ?? ['redis://127.0.0.1:6379'])],
    isCluster: options.cluster ?? typeof options.url !== 'string',
    secret: options.secret,
    replayWindow: positiveInt('replayWindow', options.replayWindow ?? 1000),
    dedupeWindow: positiveInt('dedupeWindow', options.dedupeWindow ?? 10_000),
    sessionTtlMs: positiveInt('sessionTtlMs', options.sessionTtlMs ?? 3_600_000, 0),
    durability: options.durability ?? 'async',
    replicas: positiveInt('replicas', options.replicas ?? 1),
    waitTimeoutMs: positiveInt('waitTimeoutMs', options.waitTimeoutMs ?? 1000, 0),
    durabilityCheckMs: positiveInt('durabilityCheckMs', options.durabilityCheckMs ?? 1000),
    keyPrefix: options.keyPrefix ?? 'lifeline:',
    newEpoch: options.newEpoch ?? newEpoch,
    retryAfterMs,
    deadlines: {
      commandTimeoutMs: positiveInt('commandTimeoutMs', options.commandTimeoutMs ?? 2000),
      pingIntervalMs: positiveInt('pingIntervalMs', options.pingIntervalMs ?? 1000),
      maxPendingCalls: positiveInt('maxPendingCalls', options.maxPendingCalls ?? 10_000),
      retryAfterMs,
    },
    maxPendingForwards: positiveInt('maxPendingForwards', options.maxPendingForwards ?? 1000),
    connectTimeoutMs: positiveInt('connectTimeoutMs', options.connectTimeoutMs ?? 30_000),
    onConnectFailed: options.onConnectFailed ?? (() => undefined),
    clock: options.clock ?? systemClock,
  };
}
