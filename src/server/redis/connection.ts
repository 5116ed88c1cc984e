// One node's connections to Redis, shared by its log and its fleet services: the data connection
// (a node-redis standalone or cluster client with every script defined) under its link's
// deadlines, and the pub/sub connection beside it. Every call goes through `call`, which times it
// and turns a failure into a typed LogError; open() bounds the first connect, close() the last replies.
import { createClient, createCluster } from 'redis';
import { unrefTimer, type TimerHandle } from '../clock.js';
import { LogError } from '../event-log.js';
import { DATA_SCRIPTS, type ClusterClient as Cluster, type DataClient, type StandaloneClient as Standalone } from './data-client.js';
import { createPubSub, type PubSub } from './pubsub.js';
import type { ResolvedRedisOptions } from './options.js';
import { createRedisLink, isErrorReply, socketTimeoutFor, type RedisCall, type RedisLink } from './redis-link.js';

/**
 * How long `close()` lets the data connection finish its replies before destroying it: a Redis
 * that stopped answering would otherwise hold the close forever. A shutdown grace, not a deadline
 * of any request (those fail at once while Redis is unreachable).
 */
export const REDIS_CLOSE_GRACE_MS = 1000;

/** A node's connections to Redis. */
export interface RedisConnection {
  /** The data connection: scripts, presence, caps, the node registry. */
  readonly client: DataClient;
  readonly isCluster: boolean;
  /** The data connection's link: its deadlines and whether it answers. */
  readonly link: RedisLink;
  /** The pub/sub connection (opened at the first subscription). */
  readonly pubsub: PubSub;
  /**
   * Run one call under the link's deadline (`extraMs` more for a call that blocks on purpose, such
   * as WAIT), timing it. A failure rejects as a {@link LogError}: `session_not_found` for a script
   * that found no session, `unavailable` for a Redis that cannot be reached or refuses to serve.
   * Only NOSCRIPT goes back raw, for the caller that sends its script itself (presence).
   */
  readonly call: RedisCall;
  /** Every primary as a standalone client: the one client, or each master of the cluster. */
  primaries(): Promise<Standalone[]>;
  /** Call `listener` each time the data connection is (again) ready. */
  onReady(listener: () => void): void;
  /** Are the data connection and the pub/sub answering right now? */
  isReachable(): boolean;
  /** Call `listener` with the latency (ms) of each call. Returns an unsubscribe. */
  onRoundTrip(listener: (ms: number) => void): () => void;
  /** Latency of the last call, in ms. */
  lastRoundTripMs(): number;
  /** Connect within `connectTimeoutMs` and start the link's PINGs; resolves at once when open. */
  open(): Promise<void>;
  /** Close both connections, giving the data connection's pending replies a short grace. */
  close(): Promise<void>;
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

/** A call's failure as the typed error the log's callers handle (see {@link RedisConnection.call}). */
function asLogError(error: unknown, what: string, retryAfterMs: number): unknown {
  if (error instanceof LogError) return error;
  if (scriptError(error, 'LIFELINE_NO_SESSION')) return new LogError('session_not_found', `Redis does not hold this session (${what}).`);
  if (scriptError(error, 'LIFELINE_UNCONFIRMED')) {
    return new LogError('unavailable', `The replicas have not confirmed a replay window of events of this session; publishes resume once they catch up (${what}).`, retryAfterMs);
  }
  if (scriptError(error, 'LIFELINE_MOVED')) {
    return new LogError('unavailable', `The session moved to a new epoch before the event was confirmed; retry with the same idempotency key (${what}).`, retryAfterMs);
  }
  // NOSCRIPT: the caller sends the script itself (presence). Any other refusal (LOADING after
  // a restart, BUSY, READONLY after a failover, CLUSTERDOWN, OOM) is Redis unable to serve.
  if (isErrorReply(error) && error.message.startsWith('NOSCRIPT')) return error;
  const why = isErrorReply(error) ? 'Redis refused' : 'Redis is unreachable';
  return new LogError('unavailable', `${why} (${what}): ${error instanceof Error ? error.message : String(error)}`, retryAfterMs);
}

/** Create the connections (nothing connects before {@link RedisConnection.open}). */
export function createRedisConnection(options: ResolvedRedisOptions): RedisConnection {
  const { urls, isCluster, deadlines, clock, retryAfterMs, connectTimeoutMs } = options;
  // A PING queued behind a replicated publish's WAIT may wait that long too.
  const waitMs = options.durability === 'replicated' ? options.waitTimeoutMs : 0;
  // Reconnect forever with capped backoff; fail commands at once while down (no offline queue),
  // so a publish or join is refused with `unavailable` instead of hanging. A socket that neither
  // reads nor writes for socketTimeout is ended and reconnected: the link stops writing once a
  // deadline passed (redis-link.ts), and a healthy link PINGs more often than that.
  const socket = {
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
    connectTimeout: Math.min(2000, connectTimeoutMs),
    socketTimeout: socketTimeoutFor(deadlines) + waitMs,
  };
  // No node-redis command timeout (its default is 5 s): it covers a command only until it is
  // written, which the link's deadlines cover too, and it costs an AbortSignal.timeout per
  // command, whose timer still fires (and builds a DOMException) long after the reply: about a
  // tenth of the publishing node's CPU per event in the fleet bench's profile.
  const commandOptions = { timeout: 0 };
  const client: DataClient = isCluster
    ? (createCluster({ rootNodes: urls.map((url) => ({ url })), defaults: { socket, disableOfflineQueue: true }, commandOptions, scripts: DATA_SCRIPTS }) as unknown as Cluster)
    : (createClient({ url: urls[0] ?? 'redis://127.0.0.1:6379', socket, disableOfflineQueue: true, commandOptions, scripts: DATA_SCRIPTS }) as unknown as Standalone);

  async function primaries(): Promise<Standalone[]> {
    if (!isCluster) return [client as Standalone];
    const cluster = client as Cluster;
    return Promise.all(cluster.masters.map(async (master) => (await cluster.nodeClient(master)) as unknown as Standalone));
  }

  const link = createRedisLink('data', { ping: async () => Promise.all((await primaries()).map((node) => node.ping())) }, { ...deadlines, commandTimeoutMs: deadlines.commandTimeoutMs + waitMs }, clock);
  const pubsub = createPubSub({ client, isCluster, dataLink: link, deadlines, clock });
  let lastRtt = 0;
  const rttListeners = new Set<(ms: number) => void>();
  const readyListeners: (() => void)[] = [];
  // node-redis reports each failed (re)connect here, and reconnects by itself.
  client.on('error', (error: unknown) => link.failed(error));
  client.on(isCluster ? 'node-ready' : 'ready', () => {
    link.ready();
    for (const listener of readyListeners) listener();
  });

  async function call<T>(what: string, run: () => Promise<T>, extraMs = 0): Promise<T> {
    const started = clock.now();
    try {
      const result = await link.run(what, run, extraMs);
      lastRtt = clock.now() - started;
      for (const listener of rttListeners) listener(lastRtt);
      return result;
    } catch (error) {
      throw asLogError(error, what, retryAfterMs);
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
      options.onConnectFailed(failure);
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
    // Stop the retries: nothing of this fleet may keep the process alive after open() gave up.
    client.destroy();
    const within = outcome === 'late' ? ` within ${timeoutMs} ms` : '';
    throw new LogError('unavailable', `Cannot connect to Redis at ${urls.map(redactRedisUrl).join(', ')}${within} (${cause}).`, retryAfterMs);
  }

  return {
    client,
    isCluster,
    link,
    pubsub,
    call,
    primaries,
    onReady: (listener) => void readyListeners.push(listener),
    isReachable: () => link.isUp() && pubsub.isUp(),
    onRoundTrip(listener) {
      rttListeners.add(listener);
      return () => {
        rttListeners.delete(listener);
      };
    },
    lastRoundTripMs: () => lastRtt,
    async open() {
      if (client.isOpen) return;
      await connectWithin(connectTimeoutMs);
      link.start();
    },
    async close() {
      link.stop();
      await pubsub.close();
      // The data connection gets a graceful close when Redis answers, and is destroyed when it
      // does not (a close would wait forever).
      if (!client.isOpen) return;
      if (!link.isUp()) return client.destroy();
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
  };
}
