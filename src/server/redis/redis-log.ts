// The fleet's EventLog on Redis Streams: every gateway node that points at the same Redis (or
// Redis Cluster) shares each session's history, so a client resumes on any node. One Lua script
// per operation (scripts.ts), hash-tagged keys per session (keys.ts), the epoch in the meta hash.
// Only the data operations live here; the connection, the durability monitor and the fleet's
// services are their own modules, assembled by redis-fleet.ts.
import { createHmac } from 'node:crypto';
import type { AppendResult, EventLog, LogPosition, LogRead, SessionRecord, StoredState } from '../event-log.js';
import { LogError } from '../event-log.js';
import type { RedisConnection } from './connection.js';
import type { RedisDurability } from './durability.js';
import { keyList, sessionIdOfMeta, sessionKeys, type SessionKeys } from './keys.js';
import { createRedisMessageClaims } from './message-claims.js';
import type { ResolvedRedisOptions } from './options.js';
import type { StandaloneClient as Standalone } from './data-client.js';
import { payloadJsonOf, storedEvents } from './stream-codec.js';

/**
 * The Redis log: an {@link EventLog} that every gateway node on the same Redis (or Redis Cluster)
 * shares. It comes with its fleet: `createGateway({ ...createRedisFleet({ url, secret }) })`.
 */
export interface RedisLog extends EventLog {
  /** Idle sessions expire in Redis by themselves; nodes refresh the ones they hold, three times per TTL. */
  readonly expiry: { readonly by: 'store'; readonly touchEveryMs: number };
}

/** What the log is built on: the shared connection, the durability monitor and the open/close of both. */
export interface RedisLogParts {
  readonly connection: RedisConnection;
  readonly durability: RedisDurability;
  readonly options: ResolvedRedisOptions;
  /** Opens (or closes) the connection with everything that runs on it; shared with the fleet. */
  readonly open: () => Promise<void>;
  readonly close: () => Promise<void>;
}

/** The Redis log on `parts`; see {@link RedisLog}. */
export function createRedisLogOn(parts: RedisLogParts): RedisLog {
  const { connection, durability, options } = parts;
  const { client, call } = connection;
  const { keyPrefix: prefix, sessionTtlMs, replayWindow, retryAfterMs, secret } = options;
  const ttlArg = String(sessionTtlMs);
  const keysOf = (sessionId: string): SessionKeys => sessionKeys(prefix, sessionId);
  // Every script's first three arguments (scripts.ts): durable writes, a fresh epoch, the key TTL.
  const common = (): string[] => [durability.flag(), options.newEpoch(), ttlArg];
  const messageClaims = createRedisMessageClaims(client, { keysOf, sessionTtlMs, dedupeWindow: options.dedupeWindow, call });
  const replicated = options.durability === 'replicated';

  async function open(sessionId: string, agent: string, owner: string): Promise<{ record: SessionRecord; position: LogPosition } | undefined> {
    const keys = keysOf(sessionId);
    const reply = await call('open', () => client.lifelineOpen(keyList(keys), [...common(), agent, owner]));
    if (!Array.isArray(reply) || reply.length === 0) return undefined;
    const [epoch, agentId, ownerTag, head, oldest, , movedFrom] = reply as [string, string, string, number, number, number, string | undefined];
    const record: SessionRecord = { sessionId, agentId, epoch, ...(ownerTag === '' ? {} : { owner: ownerTag }) };
    const movedUnseen = movedFrom !== undefined && movedFrom !== '';
    return { record, position: { epoch, head: Number(head), oldest: Number(oldest), movedUnseen } };
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
    for (const node of await call('scan', () => connection.primaries())) await scan(node);
    return found;
  }

  /**
   * Replicated: WAIT for the replicas (Redis refuses WAIT inside a script), then expose the event:
   * raise the session's confirmed head and fan out. Three round trips, in sequence: a WAIT
   * pipelined with the append could run before it (node-redis re-sends an EVALSHA that met
   * NOSCRIPT as EVAL, and a cluster redirect re-sends it to another node) and confirm too early.
   * WAIT covers every earlier write on the primary, whichever connection made it.
   */
  async function confirmReplicated(keys: SessionKeys, epoch: string, seq: number): Promise<void> {
    await durability.requireReplicas(keys);
    await call('confirm', () => client.lifelineConfirm(keyList(keys), [...common(), epoch, String(seq), keys.channel, 'SPUBLISH']));
  }

  return {
    replayWindow,
    // Three touches per TTL: a late sweep or one failed round trip does not expire a live session.
    expiry: { by: 'store', touchEveryMs: sessionTtlMs === 0 ? Infinity : Math.max(10, Math.floor(sessionTtlMs / 3)) },
    open: parts.open,
    close: parts.close,
    ownerOf: (token) => createHmac('sha256', secret).update(token).digest('base64url'),
    async getSession(sessionId) {
      return (await open(sessionId, '', ''))?.record;
    },
    async createSession(sessionId, agentId, owner) {
      const opened = await open(sessionId, agentId, owner ?? '');
      if (!opened) throw new LogError('unavailable', 'Redis did not create the session.', retryAfterMs);
      return opened.record;
    },
    async deleteSession(sessionId) {
      const keys = keysOf(sessionId);
      await call('delete', () => client.del([...keyList(keys), keys.claims]));
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
    async touch(sessionIds) {
      await Promise.all(sessionIds.map((id) => call('touch', () => client.lifelineTouch(keyList(keysOf(id)), common()))));
    },
    async append(sessionId, entries): Promise<AppendResult[]> {
      const keys = keysOf(sessionId);
      // Replicated: the script does not fan out; the events are exposed only once WAIT confirmed them.
      const args = [...common(), String(replayWindow), keys.channel, replicated ? '' : 'SPUBLISH'];
      for (const { event, idempotencyKey } of entries) args.push(payloadJsonOf(event), idempotencyKey ?? '');
      const reply = (await call('publish', () => client.lifelineAppend(keyList(keys), args))) as [string, ...number[]];
      const epoch = reply[0];
      const results = entries.map(({ event }, i): AppendResult => ({ seq: Number(reply[1 + 2 * i]), event, epoch, duplicate: reply[2 + 2 * i] === 1 }));
      // Duplicates too: a first attempt may have been refused before it was confirmed. One WAIT
      // covers the whole burst (and every earlier write).
      if (replicated) await confirmReplicated(keys, epoch, Math.max(...results.map((r) => r.seq)));
      return results;
    },
    async readAfter(sessionId, cursor, limit): Promise<LogRead> {
      const keys = keysOf(sessionId);
      const reply = await call('replay', () => client.lifelineRead(keyList(keys), [...common(), String(cursor), limit === undefined ? '' : String(limit)]));
      const [epoch, entries] = reply as [string, unknown];
      return { epoch, events: storedEvents(entries) };
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
      if (claim.status === 'claimed' && replicated) await durability.waitForReplicas(keysOf(sessionId)).catch(() => 0);
      return claim;
    },
    renewMessageClaim: (sessionId, messageId, holder) => messageClaims.renew(sessionId, messageId, holder),
    async recordMessageApplied(sessionId, messageId, owner) {
      const held = await messageClaims.record(sessionId, messageId, owner);
      // Replicated: the ack waits until a replica knows the id was applied, as for the claim.
      if (replicated) await durability.waitForReplicas(keysOf(sessionId)).catch(() => 0);
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
  };
}
