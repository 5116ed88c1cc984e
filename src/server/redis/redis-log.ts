// The fleet's EventLog on Redis Streams: every gateway node that points at the same Redis (or
// Redis Cluster) shares each session's history, so a client resumes on any node. One Lua script
// per operation (scripts.ts), hash-tagged keys per session (keys.ts), the epoch in the meta hash.
import { createHmac } from 'node:crypto';
import { createClient, createCluster } from 'redis';
import type { AppendResult, EventLog, LiveEvent, LogPosition, NodeReport, SessionRecord, StoredEvent, StoredState, Unsubscribe } from '../event-log.js';
import { LogError } from '../event-log.js';
import { rememberPayloadJson } from '../../protocol/codec.js';
import { every, systemClock, unrefTimer, type GatewayClock, type TimerHandle } from '../clock.js';
import { newEpoch } from '../memory-log.js';
import { keyList, sessionIdOfMeta, sessionKeys, type SessionKeys } from './keys.js';
import { DATA_SCRIPTS, type ClusterClient as Cluster, type DataClient, type StandaloneClient as Standalone } from './data-client.js';
import { createLiveFeed } from './live-feed.js';
import { createRedisLink, isErrorReply, socketTimeoutFor, type RedisDeadlines } from './redis-link.js';
import type { SessionCaps, SessionLimits } from '../session-caps.js';
import { createRedisSessionCaps, type RedisSessionCaps } from './session-caps.js';
import { createRedisPresence } from './presence.js';
import { createRedisMessageClaims } from './message-claims.js';

/** How much a publish waits for before it resolves. */
export type Durability = 'async' | 'replicated';

/** Options for {@link createRedisLog}. */
export interface RedisLogOptions {
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
  /** How long `open()` keeps trying to reach Redis before it rejects `unavailable`. @default 30000 */
  readonly connectTimeoutMs?: number;
  /** Called for each failed attempt of `open()` to reach Redis (it keeps trying until `connectTimeoutMs`). */
  readonly onConnectFailed?: (cause: Error) => void;
  /**
   * Time for the log's own timers (the durability check, the close grace) and round-trip
   * timings; pass the gateway's `clock` when it is not the default. @default systemClock
   */
  readonly clock?: GatewayClock;
}

/**
 * How long `close()` lets the data connection finish its replies before destroying it: a Redis
 * that stopped answering would otherwise hold the close forever. A shutdown grace, not a deadline
 * of any request (those fail at once while Redis is unreachable).
 */
export const REDIS_CLOSE_GRACE_MS = 1000;

/**
 * The prefix of a control message on a session's fan-out channel (events start with their seq):
 * `!end:<reason>` says the session was ended (`expireSession`) on some node.
 */
const END_NOTICE = '!end:';

/**
 * The Redis log: an {@link EventLog} that every gateway node on the same Redis (or Redis Cluster)
 * shares, with the lifecycle of its connection. Pass it as `createGateway({ log })`.
 */
export interface RedisLog extends EventLog {
  /** Idle sessions expire in Redis by themselves; nodes refresh the ones they hold. */
  readonly expiresSessions: true;
  /** Connect and load the scripts. The gateway opens the log it is given; opening twice is harmless. */
  open(): Promise<void>;
  /** Close the connections, giving pending replies a short grace. */
  close(): Promise<void>;
  /** The owner digest of a token: an HMAC keyed with `secret`, the same on every node. */
  ownerOf(token: string): string;
  /** Are the data connection and the live feed answering right now? */
  isReachable(): boolean;
  /** Round-trip latency of the last operation, in ms (for metrics). */
  lastRoundTripMs(): number;
  /** Session caps counted in this Redis for the whole fleet; entries lapse after `sessionTtlMs` unrefreshed. */
  sessionCaps(limits: SessionLimits): SessionCaps;
  /** Does this node mark its writes durable (a restart or failover cannot lose them) right now? */
  durableWrites(): boolean;
}

/**
 * The Redis log with its connection and key layout, for the fleet's parts in this folder and for
 * tests. No package entry exports it: the raw client would let an app write around the log.
 */
export interface RedisLogInternals extends RedisLog {
  /** The connection the log runs its scripts on, for fan-out subscribers (`duplicate()`) and tests. */
  readonly client: DataClient;
  readonly keyPrefix: string;
  /** Keys of one session. */
  keys(sessionId: string): SessionKeys;
  sessionCaps(limits: SessionLimits): RedisSessionCaps;
}

function positiveInt(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

/**
 * An event payload from the JSON the log holds; the text is remembered so the frames that carry
 * the event splice it in instead of serialising the payload again (once per connection).
 */
function parsePayload(json: string): StoredEvent['event'] {
  const event = JSON.parse(json) as StoredEvent['event'];
  if (typeof event === 'object' && event !== null) rememberPayloadJson(event, json);
  return event;
}

/** Parse a fan-out message `<seq>:<epoch>:<event json>` (written by the append script). */
export function parseLiveEvent(message: string): LiveEvent | undefined {
  const first = message.indexOf(':');
  const second = message.indexOf(':', first + 1);
  if (first < 1 || second < 0) return undefined;
  try {
    return { seq: Number(message.slice(0, first)), epoch: message.slice(first + 1, second), event: parsePayload(message.slice(second + 1)) };
  } catch {
    return undefined;
  }
}

/** A Redis URL fit for a message or a banner: its password hidden. */
export function redactRedisUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== '') url.password = '[redacted]';
    return url.href.replace(/\/$/, '');
  } catch {
    return text;
  }
}

/** Redis error replies are Error instances with the server's message. */
function scriptError(error: unknown, name: string): boolean {
  return error instanceof Error && error.message.includes(name);
}

/** Stream entries as XRANGE returns them inside a script: `[id, ['e', json]]`. */
function storedEvents(entries: unknown): StoredEvent[] {
  return (entries as Array<[string, string[]]>).map(([id, fields]) => ({
    seq: Number(id.slice(0, id.indexOf('-'))),
    event: parsePayload(String(fields[1])),
  }));
}

/**
 * Create the Redis {@link EventLog}. Connections open in `open()` (createGateway calls it);
 * while Redis is unreachable every operation rejects at once with a {@link LogError}
 * `unavailable`, and the client reconnects by itself with capped backoff.
 */
export function createRedisLog(options: RedisLogOptions): RedisLog {
  return createRedisLogInternals(options);
}

/** {@link createRedisLog}, with the internals this folder's parts and the tests reach. */
export function createRedisLogInternals(options: RedisLogOptions): RedisLogInternals {
  if (typeof options.secret !== 'string' || options.secret.length < 16) {
    throw new RangeError('createRedisLog needs `secret`, at least 16 characters shared by every node (owner digests are HMACs keyed with it).');
  }
  const replayWindow = positiveInt('replayWindow', options.replayWindow ?? 1000);
  const dedupeWindow = positiveInt('dedupeWindow', options.dedupeWindow ?? 10_000);
  const ttlMs = positiveInt('sessionTtlMs', options.sessionTtlMs ?? 3_600_000, 0);
  const durability = options.durability ?? 'async';
  const replicas = positiveInt('replicas', options.replicas ?? 1);
  const waitTimeoutMs = positiveInt('waitTimeoutMs', options.waitTimeoutMs ?? 1000, 0);
  const durabilityCheckMs = positiveInt('durabilityCheckMs', options.durabilityCheckMs ?? 1000);
  const prefix = options.keyPrefix ?? 'lifeline:';
  const epochOf = options.newEpoch ?? newEpoch;
  const retryAfterMs = options.retryAfterMs ?? 1000;
  const urls = typeof options.url === 'string' ? [options.url] : [...(options.url ?? ['redis://127.0.0.1:6379'])];
  const isCluster = options.cluster ?? typeof options.url !== 'string';
  const secret = options.secret;
  const clock = options.clock ?? systemClock;
  const deadlines: RedisDeadlines = {
    commandTimeoutMs: positiveInt('commandTimeoutMs', options.commandTimeoutMs ?? 2000),
    pingIntervalMs: positiveInt('pingIntervalMs', options.pingIntervalMs ?? 1000),
    maxPendingCalls: positiveInt('maxPendingCalls', options.maxPendingCalls ?? 10_000),
    retryAfterMs,
  };
  const connectTimeoutMs = positiveInt('connectTimeoutMs', options.connectTimeoutMs ?? 30_000);

  // Reconnect forever with capped backoff; fail commands at once while down (no offline queue),
  // so a publish or join is refused with `unavailable` instead of hanging. A socket that neither
  // reads nor writes for socketTimeout is ended and reconnected: the link stops writing once a
  // deadline passed (redis-link.ts), and a healthy link PINGs more often than that.
  const socket = {
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
    connectTimeout: Math.min(2000, connectTimeoutMs),
    socketTimeout: socketTimeoutFor(deadlines) + (durability === 'replicated' ? waitTimeoutMs : 0),
  };
  const client: DataClient = isCluster
    ? (createCluster({ rootNodes: urls.map((url) => ({ url })), defaults: { socket, disableOfflineQueue: true }, scripts: DATA_SCRIPTS }) as unknown as Cluster)
    : (createClient({ url: urls[0] ?? 'redis://127.0.0.1:6379', socket, disableOfflineQueue: true, scripts: DATA_SCRIPTS }) as unknown as Standalone);
  // A PING queued behind a replicated publish's WAIT may wait that long too.
  const dataLink = createRedisLink('data', { ping: pingAll }, { ...deadlines, commandTimeoutMs: deadlines.commandTimeoutMs + (durability === 'replicated' ? waitTimeoutMs : 0) }, clock);
  const liveFeed = createLiveFeed({ client, isCluster, dataLink, deadlines, clock });
  let lastRtt = 0;
  const rttListeners = new Set<(ms: number) => void>();
  // node-redis reports each failed (re)connect here, and reconnects by itself.
  client.on('error', (error: unknown) => dataLink.failed(error));
  client.on(isCluster ? 'node-ready' : 'ready', () => {
    dataLink.ready();
    // A Redis that came back may run with another fsync policy: look at once, not at the next tick.
    if (durability === 'async' && client.isOpen) void checkDurability();
  });
  // '1' when a write this node acknowledges cannot be lost by the store. `replicated`: WAIT
  // guards every publish. `async`: read at open() and every durabilityCheckMs (checkDurability).
  let durableFlag = durability === 'replicated' ? '1' : '0';
  let stopDurabilityCheck: (() => void) | undefined;
  const ttlArg = String(ttlMs);

  /** One round trip to every primary. */
  async function pingAll(): Promise<void> {
    if (!isCluster) {
      await (client as Standalone).ping();
      return;
    }
    const cluster = client as Cluster;
    await Promise.all(cluster.masters.map(async (master) => ((await cluster.nodeClient(master)) as unknown as Standalone).ping()));
  }

  /**
   * Run a Redis call under its deadline (see redis-link.ts), timing it and turning a connection
   * failure into `unavailable`. `extraMs`: more time for a call that blocks on purpose (WAIT).
   */
  async function call<T>(what: string, run: () => Promise<T>, extraMs = 0): Promise<T> {
    const started = clock.now();
    try {
      const result = await dataLink.run(what, run, extraMs);
      lastRtt = clock.now() - started;
      for (const listener of rttListeners) listener(lastRtt);
      return result;
    } catch (error) {
      if (error instanceof LogError) throw error;
      if (scriptError(error, 'LIFELINE_NO_SESSION')) throw new LogError('session_not_found', `Redis does not hold this session (${what}).`);
      if (scriptError(error, 'LIFELINE_UNCONFIRMED')) {
        throw new LogError('unavailable', `The replicas have not confirmed a replay window of events of this session; publishes resume once they catch up (${what}).`, retryAfterMs);
      }
      if (scriptError(error, 'LIFELINE_MOVED')) {
        throw new LogError('unavailable', `The session moved to a new epoch before the event was confirmed; retry with the same idempotency key (${what}).`, retryAfterMs);
      }
      // NOSCRIPT: the caller sends the script itself (presence). Any other refusal (LOADING after
      // a restart, BUSY, READONLY after a failover, CLUSTERDOWN, OOM) is Redis unable to serve.
      if (isErrorReply(error) && error.message.startsWith('NOSCRIPT')) throw error;
      const why = isErrorReply(error) ? 'Redis refused' : 'Redis is unreachable';
      throw new LogError('unavailable', `${why} (${what}): ${error instanceof Error ? error.message : String(error)}`, retryAfterMs);
    }
  }

  const common = (): string[] => [durableFlag, epochOf(), ttlArg];
  const keysOf = (sessionId: string): SessionKeys => sessionKeys(prefix, sessionId);
  const messageClaims = createRedisMessageClaims(client, { keysOf, sessionTtlMs: ttlMs, dedupeWindow, call });

  async function open(sessionId: string, agent: string, owner: string): Promise<{ record: SessionRecord; position: LogPosition } | undefined> {
    const keys = keysOf(sessionId);
    const reply = await call('open', () => client.lifelineOpen(keyList(keys), [...common(), agent, owner]));
    if (!Array.isArray(reply) || reply.length === 0) return undefined;
    const [epoch, agentId, ownerTag, head, oldest, , movedFrom] = reply as [string, string, string, number, number, number, string | undefined];
    const record: SessionRecord = { sessionId, agentId, epoch, ...(ownerTag === '' ? {} : { owner: ownerTag }) };
    const moved = movedFrom !== undefined && movedFrom !== '' ? { movedUnseen: true } : {};
    return { record, position: { epoch, head: Number(head), oldest: Number(oldest), ...moved } };
  }

  /** Every session's meta key: one SCAN call (and deadline) per batch, on every primary. */
  async function listMetaKeys(): Promise<string[]> {
    const found: string[] = [];
    const scan = async (node: Standalone): Promise<void> => {
      const batches = node.scanIterator({ MATCH: `${prefix}{*}:meta`, COUNT: 1000 });
      for (;;) {
        const batch = await call('scan', () => batches.next());
        if (batch.done === true) return;
        found.push(...batch.value);
      }
    };
    if (isCluster) {
      const cluster = client as Cluster;
      for (const master of cluster.masters) await scan(await call('scan', async () => (await cluster.nodeClient(master)) as unknown as Standalone));
    } else await scan(client as Standalone);
    return found;
  }

  return {
    replayWindow,
    expiresSessions: true,
    // Three touches per TTL: a late sweep or one failed round trip does not expire a live session.
    ...(ttlMs === 0 ? {} : { touchEveryMs: Math.max(10, Math.floor(ttlMs / 3)) }),
    client,
    keyPrefix: prefix,
    keys: keysOf,
    isReachable: () => dataLink.isUp() && liveFeed.isUp(),
    lastRoundTripMs: () => lastRtt,
    presence: createRedisPresence({ client, isCluster, keyPrefix: prefix, call }),
    durableWrites: () => durableFlag === '1',
    ownerOf: (token) => createHmac('sha256', secret).update(token).digest('base64url'),
    async open() {
      if (client.isOpen) return;
      await connectWithin(connectTimeoutMs);
      dataLink.start();
      if (durability === 'async') {
        await checkDurability();
        stopDurabilityCheck?.();
        stopDurabilityCheck = every(clock, durabilityCheckMs, () => void checkDurability(), { unref: true });
      }
    },
    async close() {
      stopDurabilityCheck?.();
      stopDurabilityCheck = undefined;
      dataLink.stop();
      await liveFeed.close();
      // The data connection gets a graceful close when Redis answers, and is destroyed when it
      // does not (a close would wait forever).
      if (!client.isOpen) return;
      if (!dataLink.isUp()) return client.destroy();
      let timer: TimerHandle;
      const late = new Promise<'late'>((resolve) => {
        timer = clock.setTimeout(() => resolve('late'), REDIS_CLOSE_GRACE_MS);
        // Never what keeps a process alive: the connection being closed does that while it lasts.
        unrefTimer(timer);
      });
      const outcome = await Promise.race([client.close().catch(() => undefined), late]);
      clock.clearTimeout(timer);
      // Not guarded by isOpen: a graceful close clears it at once while the socket drains.
      if (outcome === 'late') client.destroy();
    },
    async subscribe(sessionId, onEvent, onEnded): Promise<Unsubscribe> {
      try {
        return await liveFeed.subscribe(keysOf(sessionId).channel, (message) => {
          if (message.startsWith(END_NOTICE)) return onEnded?.(message.slice(END_NOTICE.length));
          const live = parseLiveEvent(message);
          if (live) onEvent(live);
        });
      } catch (error) {
        if (error instanceof LogError) throw error;
        const why = isErrorReply(error) ? 'Redis refused' : 'Redis is unreachable';
        throw new LogError('unavailable', `${why} (subscribe): ${error instanceof Error ? error.message : String(error)}`, retryAfterMs);
      }
    },
    async reportNode(report, freshMs) {
      // One hash for the fleet (hash-tagged, so one slot in a cluster); stale entries are dropped.
      const key = `${prefix}{fleet}:nodes`;
      const now = clock.wallNow(); // wall time: compared across processes, never used as a deadline
      const [, all] = await call('fleet', () =>
        Promise.all([client.hSet(key, report.node, JSON.stringify({ ...report, at: now })), client.hGetAll(key)]),
      );
      const view = { nodes: 0, connections: 0, sessions: 0 };
      const stale: string[] = [];
      for (const [node, json] of Object.entries(all as Record<string, string>)) {
        const entry = JSON.parse(json) as NodeReport & { at: number };
        if (now - entry.at > freshMs) {
          stale.push(node);
          continue;
        }
        view.nodes++;
        view.connections += entry.connections;
        view.sessions += entry.sessions;
      }
      if (stale.length > 0) await call('fleet', () => client.hDel(key, stale));
      return view;
    },
    onRoundTrip(listener) {
      rttListeners.add(listener);
      return () => {
        rttListeners.delete(listener);
      };
    },
    onFeedRestored: (listener) => liveFeed.onRestored(listener),
    async getSession(sessionId) {
      return (await open(sessionId, '', ''))?.record;
    },
    async createSession(sessionId, agentId, owner) {
      const opened = await open(sessionId, agentId, owner ?? '');
      if (!opened) throw new LogError('unavailable', 'Redis did not create the session.', retryAfterMs);
      return opened.record;
    },
    async deleteSession(sessionId, reason = 'The session was ended.') {
      const keys = keysOf(sessionId);
      // The notice reaches every node subscribed to the session (those holding connections to it).
      // Sent on the session's own channel, so it stays in the session's cluster slot.
      await call('delete', () => Promise.all([client.del([...keyList(keys), keys.claims]), client.sPublish(keys.channel, `${END_NOTICE}${reason}`)]));
    },
    async listSessions() {
      const records: SessionRecord[] = [];
      for (const key of await call('scan', listMetaKeys)) {
        const id = sessionIdOfMeta(prefix, key);
        const record = id === undefined ? undefined : (await open(id, '', ''))?.record;
        if (record) records.push(record);
      }
      return records;
    },
    async append(sessionId, event, appendOptions = {}): Promise<AppendResult> {
      const keys = keysOf(sessionId);
      const payload = JSON.stringify(event);
      // Replicated: the script does not fan out; the event is exposed only once WAIT confirmed it.
      const fanout = durability === 'replicated' ? '' : 'SPUBLISH';
      const reply = await call('publish', () =>
        client.lifelineAppend(keyList(keys), [...common(), String(replayWindow), payload, appendOptions.idempotencyKey ?? '', keys.channel, fanout]),
      );
      const [seq, epoch, duplicate] = reply as [number, string, number];
      // A duplicate too: the first attempt may have been refused before it was confirmed.
      if (durability === 'replicated') await confirmReplicated(keys, epoch, Number(seq));
      return { seq: Number(seq), event, epoch, duplicate: duplicate === 1 };
    },
    async readAfter(sessionId, cursor, limit): Promise<StoredEvent[]> {
      const keys = keysOf(sessionId);
      const reply = await call('replay', () => client.lifelineRead(keyList(keys), [...common(), String(cursor), limit === undefined ? '' : String(limit)]));
      return storedEvents(reply);
    },
    async position(sessionId) {
      const opened = await open(sessionId, '', '');
      if (!opened) throw new LogError('session_not_found', `Redis does not hold session ${sessionId}.`);
      return opened.position;
    },
    async moveSeen(sessionId, epoch) {
      const keys = keysOf(sessionId);
      await call('move seen', () => client.lifelineMoveSeen(keyList(keys), [...common(), epoch]));
    },
    async claimMessage(sessionId, messageId, holder) {
      const claim = await messageClaims.claim(sessionId, messageId, holder);
      // Replicated: the handlers run only once a replica has the claim too, so a resend after a
      // failover finds it in flight. A WAIT that falls short refuses nothing (the primary holds it).
      if (claim.status === 'claimed' && durability === 'replicated') await waitForReplicas(keysOf(sessionId)).catch(() => 0);
      return claim;
    },
    renewMessageClaim: (sessionId, messageId, holder) => messageClaims.renew(sessionId, messageId, holder),
    async recordMessageApplied(sessionId, messageId, owner) {
      const held = await messageClaims.record(sessionId, messageId, owner);
      // Replicated: the ack waits until a replica knows the id was applied, as for the claim.
      if (durability === 'replicated') await waitForReplicas(keysOf(sessionId)).catch(() => 0);
      return held;
    },
    async setState(sessionId, state): Promise<StoredState> {
      const keys = keysOf(sessionId);
      const reply = await call('set state', () => client.lifelineSetState(keyList(keys), [...common(), JSON.stringify(state ?? null)]));
      const [, head] = reply as [string, number];
      return { state, cursor: Number(head) };
    },
    async getState(sessionId): Promise<StoredState | undefined> {
      const keys = keysOf(sessionId);
      const reply = await call('get state', () => client.lifelineGetState(keyList(keys), common()));
      if (!Array.isArray(reply) || reply.length === 0) return undefined;
      const [json, cursor] = reply as [string, number];
      return { state: JSON.parse(json) as unknown, cursor: Number(cursor) };
    },
    sessionCaps: (limits) => createRedisSessionCaps(client, limits, { keyPrefix: prefix, sessionTtlMs: ttlMs, call }),
    async touch(sessionIds) {
      await Promise.all(sessionIds.map((id) => call('touch', () => client.lifelineTouch(keyList(keysOf(id)), common()))));
    },
  };

  /**
   * WAIT for replicas after a publish (Redis refuses WAIT inside a script), then expose the event:
   * raise the session's confirmed head and fan out. Three round trips, in sequence: a WAIT
   * pipelined with the append could run before it (node-redis re-sends an EVALSHA that met
   * NOSCRIPT as EVAL, and a cluster redirect re-sends it to another node) and confirm too early.
   * WAIT covers every earlier write on the primary, whichever connection made it.
   */
  async function confirmReplicated(keys: SessionKeys, epoch: string, seq: number): Promise<void> {
    const acked = await waitForReplicas(keys);
    if (acked < replicas) {
      throw new LogError(
        'unavailable',
        `Only ${String(acked)} of ${replicas} replicas confirmed the event: no client sees it until they do (a retry or a later publish confirms it). Retry with the same idempotency key; without one a retry may publish it twice.`,
        retryAfterMs,
      );
    }
    await call('confirm', () => client.lifelineConfirm(keyList(keys), [...common(), epoch, String(seq), keys.channel, 'SPUBLISH']));
  }

  /** WAIT on the shard that holds the session's keys; resolves to the replicas that confirmed. */
  async function waitForReplicas(keys: SessionKeys): Promise<number> {
    const args = ['WAIT', String(replicas), String(waitTimeoutMs)];
    const acked = await call(
      'wait',
      () => (isCluster ? (client as Cluster).sendCommand(keys.meta, false, args) : (client as Standalone).sendCommand(args)),
      waitTimeoutMs,
    );
    return Number(acked);
  }

  /**
   * Read `appendonly`/`appendfsync` on every primary: '1' only when all of them fsync each write.
   * A weakening takes effect at once; a Redis that refuses CONFIG (managed services) counts as weak.
   */
  async function checkDurability(): Promise<void> {
    try {
      const configs = await dataLink.run('durability check', async () => {
        const nodes = isCluster
          ? await Promise.all((client as Cluster).masters.map(async (m) => (await (client as Cluster).nodeClient(m)) as unknown as Standalone))
          : [client as Standalone];
        return Promise.all(nodes.map((node) => node.configGet('append*')));
      });
      durableFlag = configs.every((c) => c['appendonly'] === 'yes' && c['appendfsync'] === 'always') ? '1' : '0';
    } catch (error) {
      // Unreachable: no write goes through until it is back (and 'ready' checks again).
      if (isErrorReply(error)) durableFlag = '0';
    }
  }

  /**
   * Connect, or reject `unavailable` after `timeoutMs`: node-redis retries a refused connection
   * forever, and a Redis that accepts but never answers would hold the handshake forever.
   */
  async function connectWithin(timeoutMs: number): Promise<void> {
    let cause = 'no answer';
    const failed = (error: unknown): void => {
      const failure = error instanceof Error ? error : new Error(String(error));
      cause = failure.message;
      options.onConnectFailed?.(failure);
    };
    client.on('error', failed);
    let timer: TimerHandle;
    const late = new Promise<'late'>((resolve) => {
      timer = clock.setTimeout(() => resolve('late'), timeoutMs);
    });
    const connecting = client.connect().then(
      () => 'connected' as const,
      (error: unknown) => {
        cause = error instanceof Error ? error.message : String(error);
        return 'failed' as const;
      },
    );
    const outcome = await Promise.race([connecting, late]);
    clock.clearTimeout(timer);
    client.off('error', failed);
    if (outcome === 'connected') return;
    // Stop the retries: nothing of this log may keep the process alive after open() gave up.
    client.destroy();
    const within = outcome === 'late' ? ` within ${timeoutMs} ms` : '';
    throw new LogError('unavailable', `Cannot connect to Redis at ${urls.map(redactRedisUrl).join(', ')}${within} (${cause}).`, retryAfterMs);
  }
}
