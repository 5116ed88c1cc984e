// The fleet's relay of HTTP-binding frames on Redis. Each node listens on a sharded channel of its
// own, `{node:<id>}:relay` (hash-tagged by node, so the nodes spread over a cluster's slots). A
// forward is one SPUBLISH of the frames to the holder's channel; the holder hands them to its
// connection and SPUBLISHes its answer to the forwarder's channel. SPUBLISH counts the nodes that
// heard it, so a holder that is gone (its subscription closed with its process) is known at once;
// one that does not answer within `commandTimeoutMs` is `no_answer`. Pub/sub delivers at most once
// and in publish order: a forward is never handed over twice, and the forwarder answers its POST
// only after the holder's answer, so the connection's next POST always comes after these frames.
import { randomBytes } from 'node:crypto';
import type { GatewayClock, TimerHandle } from '../clock.js';
import { LogError } from '../event-log.js';
import type { ConnectionRelay, DeliveryOutcome, ForwardOutcome, RelayedFrames } from '../fleet.js';
import type { RedisConnection } from './connection.js';
import { isErrorReply } from './redis-link.js';

/** Options for {@link createRedisConnectionRelay}. */
export interface RedisRelayOptions {
  readonly keyPrefix: string;
  /** How long a forward waits for the holder's answer once published. */
  readonly commandTimeoutMs: number;
  /** Forwards waiting for an answer at once; one more is `overloaded` at once. */
  readonly maxPendingForwards: number;
  readonly retryAfterMs: number;
  readonly clock: GatewayClock;
}

/** The channel a node listens on for forwarded frames and for the answers to its own forwards. */
export function relayChannel(keyPrefix: string, node: string): string {
  // Percent-encoded, so a `{` or `}` in a node id cannot break the hash tag.
  return `${keyPrefix}{node:${encodeURIComponent(node)}}:relay`;
}

/** A message on a relay channel: frames to hand over, or the answer to a forward. */
type RelayMessage =
  | { readonly kind: 'frames'; readonly id: string; readonly from: string; readonly frames: RelayedFrames }
  | { readonly kind: 'answer'; readonly id: string; readonly outcome: DeliveryOutcome };

const DELIVERY_OUTCOMES: ReadonlySet<string> = new Set<DeliveryOutcome>(['delivered', 'unknown_connection', 'forbidden', 'busy']);

function encodeFrames(id: string, from: string, frames: RelayedFrames): string {
  return JSON.stringify({ q: id, from, c: frames.connection, d: frames.tokenDigest ?? null, l: frames.lines });
}

/** Read a relay message; undefined for anything else (ignored: only nodes publish here). */
export function parseRelayMessage(text: string): RelayMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (typeof m['a'] === 'string' && typeof m['o'] === 'string' && DELIVERY_OUTCOMES.has(m['o'])) {
    return { kind: 'answer', id: m['a'], outcome: m['o'] as DeliveryOutcome };
  }
  const lines = m['l'];
  const digest = m['d'];
  if (typeof m['q'] !== 'string' || typeof m['from'] !== 'string' || typeof m['c'] !== 'string') return undefined;
  if (!Array.isArray(lines) || !lines.every((line) => typeof line === 'string') || (digest !== null && typeof digest !== 'string')) return undefined;
  return { kind: 'frames', id: m['q'], from: m['from'], frames: { connection: m['c'], lines: lines as string[], tokenDigest: digest ?? undefined } };
}

/** A forward waiting for its answer. */
interface Waiting {
  /** How many nodes heard it (SPUBLISH's count), once the publish returned. */
  heardBy: number | undefined;
  /** `unknown_connection` answers so far: the forward is unknown once every listener said so. */
  unknown: number;
  timer: TimerHandle | undefined;
  settle(outcome: ForwardOutcome): void;
}

/** The relay on `connection`'s data connection (publishes) and pub/sub (its channel). */
export function createRedisConnectionRelay(connection: RedisConnection, options: RedisRelayOptions): ConnectionRelay {
  const { keyPrefix, commandTimeoutMs, maxPendingForwards, retryAfterMs, clock } = options;
  const waiting = new Map<string, Waiting>();
  // Per process: an answer meant for an earlier process of the same node id matches nothing.
  const idPrefix = randomBytes(6).toString('base64url');
  let counter = 0;
  let self: string | undefined;

  const publish = (node: string, text: string): Promise<number> => connection.call('relay', () => connection.client.sPublish(relayChannel(keyPrefix, node), text));

  const answered = (entry: Waiting, outcome: DeliveryOutcome): void => {
    if (outcome !== 'unknown_connection') return entry.settle(outcome);
    entry.unknown++;
    // Two processes under one node id both listen: the one that holds the connection answers.
    if (entry.heardBy !== undefined && entry.unknown >= entry.heardBy) entry.settle('unknown_connection');
  };

  const onMessage = (deliver: (frames: RelayedFrames) => DeliveryOutcome, text: string): void => {
    const message = parseRelayMessage(text);
    if (message === undefined) return;
    if (message.kind === 'answer') {
      const entry = waiting.get(message.id);
      if (entry) answered(entry, message.outcome);
      return;
    }
    const outcome = deliver(message.frames);
    // A lost answer is the forwarder's `no_answer`; nothing to retry here.
    publish(message.from, JSON.stringify({ a: message.id, o: outcome })).catch(() => undefined);
  };

  return {
    async serve(node, deliver) {
      let unsubscribe: () => Promise<void>;
      try {
        unsubscribe = await connection.pubsub.subscribe(relayChannel(keyPrefix, node), (text) => onMessage(deliver, text));
      } catch (error) {
        if (error instanceof LogError) throw error;
        const why = isErrorReply(error) ? 'Redis refused' : 'Redis is unreachable';
        throw new LogError('unavailable', `${why} (relay subscribe): ${error instanceof Error ? error.message : String(error)}`, retryAfterMs);
      }
      self = node;
      return async () => {
        if (self === node) self = undefined;
        for (const entry of [...waiting.values()]) entry.settle('no_answer');
        await unsubscribe();
      };
    },

    forward(node, frames) {
      const from = self;
      if (from === undefined) return Promise.reject(new LogError('unavailable', 'This node does not listen on the relay (not started, or closing): it cannot hear an answer.', retryAfterMs));
      // Without the feed this node would not hear the answer: refuse before anything is sent.
      if (!connection.isReachable()) return Promise.reject(new LogError('unavailable', 'Redis is unreachable (relay): this node could neither send the frames nor hear the answer.', retryAfterMs));
      if (waiting.size >= maxPendingForwards) return Promise.resolve('overloaded');
      const id = `${idPrefix}.${++counter}`;
      return new Promise<ForwardOutcome>((resolve, reject) => {
        const entry: Waiting = {
          heardBy: undefined,
          unknown: 0,
          timer: undefined,
          settle(outcome) {
            if (!waiting.delete(id)) return;
            if (entry.timer !== undefined) clock.clearTimeout(entry.timer);
            resolve(outcome);
          },
        };
        // Waiting before the publish: the answer may come back before SPUBLISH's reply does.
        waiting.set(id, entry);
        publish(node, encodeFrames(id, from, frames)).then(
          (heardBy) => {
            if (!waiting.has(id)) return;
            entry.heardBy = heardBy;
            if (heardBy === 0 || entry.unknown >= heardBy) return entry.settle('unknown_connection');
            entry.timer = clock.setTimeout(() => entry.settle('no_answer'), commandTimeoutMs);
          },
          (error: unknown) => {
            waiting.delete(id);
            reject(error);
          },
        );
      });
    },
  };
}
