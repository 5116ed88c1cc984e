// Key names of one session in Redis. Every key carries the hash tag `{sessionId}`, so all of a
// session's keys (and its sharded fan-out channel) live in one Redis Cluster slot and one Lua
// script may touch them all.

/** The keys of one session, in the order the Lua scripts take them. */
export interface SessionKeys {
  /**
   * Hash: agent, owner, epoch, head, rid (Redis run_id of the last write), dur (was it durable),
   * moved_from (the epoch a move left, until a join without an epoch is told of it).
   */
  readonly meta: string;
  /** Stream of events; entry id `<seq>-0`, field `e` holds the event JSON. */
  readonly events: string;
  /** Sorted set of client message ids applied (bounded), for fleet-wide de-duplication. */
  readonly ids: string;
  /** Hash of client messages in flight: id -> `<lease end ms>|<owner>` (message-claims.ts). */
  readonly claims: string;
  /** Hash: the `resync` state (`s`) and the head it reflects (`c`). */
  readonly state: string;
  /** Sorted set of publish idempotency keys, scored by the seq they produced. */
  readonly idem: string;
  /** Sharded pub/sub channel that fans events out to the nodes holding connections. */
  readonly channel: string;
}

/** Session keys under `prefix`. */
export function sessionKeys(prefix: string, sessionId: string): SessionKeys {
  const base = `${prefix}{${sessionId}}`;
  return {
    meta: `${base}:meta`,
    events: `${base}:events`,
    ids: `${base}:ids`,
    claims: `${base}:claims`,
    state: `${base}:state`,
    idem: `${base}:idem`,
    channel: `${base}:fanout`,
  };
}

/** The keys a script receives, in KEYS order: meta, events, ids, state, idem. */
export function keyList(keys: SessionKeys): string[] {
  return [keys.meta, keys.events, keys.ids, keys.state, keys.idem];
}

/** The session id inside a meta key, or undefined for another key. */
export function sessionIdOfMeta(prefix: string, key: string): string | undefined {
  if (!key.startsWith(`${prefix}{`) || !key.endsWith('}:meta')) return undefined;
  return key.slice(prefix.length + 1, -'}:meta'.length);
}
