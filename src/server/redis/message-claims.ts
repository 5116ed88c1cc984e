// Client message claims in Redis (docs/scaling.md, "Client messages"): a message id is in flight
// under one gateway process with a lease on Redis's clock (TIME, never a node's), then applied.
// Claim, renewal and record are one Lua script each: one round trip, atomic with the checks.
// Keys: the session's five (keys.ts), so a claim keeps their TTLs in step, then its claims hash.
import { CLAIMS_PRUNE_AT, LogError, type ClaimHolder, type MessageClaim } from '../event-log.js';
import { keyList, type SessionKeys } from './keys.js';
import { luaScript } from './lua-script.js';
import type { RedisCall } from './redis-link.js';

// KEYS[1] meta, KEYS[3] applied ids (zset scored by a per-session counter), KEYS[6] claims (hash:
// id -> '<lease end ms>|<owner>'). The first three arguments: `ttl` of the keys in ms ('0': none),
// `messageId`, `claimant` (the owner asking). Each script names the ones it adds as locals.
const COMMON = `
local ttl, messageId, claimant = ARGV[1], ARGV[2], ARGV[3]
if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('LIFELINE_NO_SESSION') end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function refresh()
  if ttl ~= '0' then
    for i = 1, 6 do redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
-- The claim on the message: its lease end and owner, or false.
local function claimOf()
  local held = redis.call('HGET', KEYS[6], messageId)
  if not held then return false end
  local untilMs, owner = string.match(held, '^(%d+)|(.*)$')
  return tonumber(untilMs), owner
end
`;

function script(body: string) {
  return luaScript(COMMON + body);
}

/**
 * Claim the message for `claimant` with a lease of `leaseMs`; `pruneAt` claims past which lapsed
 * ones are pruned. Returns {'applied'}, {'in_flight', lease left in ms} or {'claimed', 1 when taken
 * over from another owner's lapsed lease}.
 */
const MESSAGE_CLAIM = script(`
local leaseMs, pruneAt = tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('ZSCORE', KEYS[3], messageId) then return {'applied'} end
local t = now()
local untilMs, owner = claimOf()
if untilMs and owner ~= claimant and untilMs > t then return {'in_flight', untilMs - t} end
if not untilMs and redis.call('HLEN', KEYS[6]) >= pruneAt then
  local all = redis.call('HGETALL', KEYS[6])
  for i = 1, #all, 2 do
    if tonumber(string.match(all[i + 1], '^(%d+)')) <= t then redis.call('HDEL', KEYS[6], all[i]) end
  end
end
redis.call('HSET', KEYS[6], messageId, (t + leaseMs) .. '|' .. claimant)
refresh()
local takenOver = 0
if untilMs and owner ~= claimant then takenOver = 1 end
return {'claimed', takenOver}
`);

/** Extend the claimant's claim on the message by `leaseMs` from now. Returns 1, or 0 when it is not theirs. */
const MESSAGE_RENEW = script(`
local leaseMs = tonumber(ARGV[4])
local untilMs, owner = claimOf()
if owner ~= claimant then return 0 end
redis.call('HSET', KEYS[6], messageId, (now() + leaseMs) .. '|' .. claimant)
refresh()
return 1
`);

/**
 * Record the message applied, keeping the newest `keep` ids, and drop the claimant's claim.
 * Returns 1, or 0 when the claim was not theirs any more (taken over: it may be applied twice).
 */
const MESSAGE_RECORD = script(`
local keep = tonumber(ARGV[4])
local untilMs, owner = claimOf()
local held = 0
if owner == claimant then
  redis.call('HDEL', KEYS[6], messageId)
  held = 1
end
if not redis.call('ZSCORE', KEYS[3], messageId) then
  local n = redis.call('HINCRBY', KEYS[1], 'mc', 1)
  redis.call('ZADD', KEYS[3], n, messageId)
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(keep + 1))
end
refresh()
return held
`);

/** The scripts, for `createClient({ scripts })`. */
export const MESSAGE_CLAIM_SCRIPTS = {
  lifelineMessageClaim: MESSAGE_CLAIM,
  lifelineMessageRenew: MESSAGE_RENEW,
  lifelineMessageRecord: MESSAGE_RECORD,
};

/** A node-redis client (standalone or cluster) created with {@link MESSAGE_CLAIM_SCRIPTS}. */
export interface MessageClaimsClient {
  lifelineMessageClaim(keys: readonly string[], args: readonly string[]): Promise<unknown>;
  lifelineMessageRenew(keys: readonly string[], args: readonly string[]): Promise<unknown>;
  lifelineMessageRecord(keys: readonly string[], args: readonly string[]): Promise<unknown>;
}

/** Options for {@link createRedisMessageClaims}. */
export interface RedisMessageClaimsOptions {
  /** The session's keys. */
  readonly keysOf: (sessionId: string) => SessionKeys;
  /** The key TTL in ms (the log's `sessionTtlMs`); 0: none. */
  readonly sessionTtlMs: number;
  /** Applied ids kept per session. */
  readonly dedupeWindow: number;
  /** Runs each call (the log's own: metrics, reachability, typed failures). */
  readonly call: RedisCall;
}

/** The three claim operations of the Redis log, as {@link EventLog} names them. */
export interface RedisMessageClaims {
  claim(sessionId: string, messageId: string, holder: ClaimHolder): Promise<MessageClaim>;
  renew(sessionId: string, messageId: string, holder: ClaimHolder): Promise<boolean>;
  record(sessionId: string, messageId: string, owner: string): Promise<boolean>;
}

/** Client message claims on `client`. */
export function createRedisMessageClaims(client: MessageClaimsClient, options: RedisMessageClaimsOptions): RedisMessageClaims {
  const ttl = String(options.sessionTtlMs);
  const keysFor = (sessionId: string): string[] => {
    const keys = options.keysOf(sessionId);
    return [...keyList(keys), keys.claims];
  };
  const { call } = options;
  return {
    async claim(sessionId, messageId, holder) {
      const args = [ttl, messageId, holder.owner, String(holder.leaseMs), String(CLAIMS_PRUNE_AT)];
      const reply = (await call('claim', () => client.lifelineMessageClaim(keysFor(sessionId), args))) as [string, number?];
      switch (reply[0]) {
        case 'applied':
          return { status: 'applied' };
        case 'in_flight':
          return { status: 'in_flight', leaseLeftMs: Number(reply[1]) };
        case 'claimed':
          return { status: 'claimed', takenOver: Number(reply[1]) === 1 };
        default:
          throw new LogError('unavailable', `Redis answered a message claim with ${JSON.stringify(reply)}; is another Lifeline version's script loaded?`);
      }
    },
    async renew(sessionId, messageId, holder) {
      const reply = await call('renew claim', () => client.lifelineMessageRenew(keysFor(sessionId), [ttl, messageId, holder.owner, String(holder.leaseMs)]));
      return Number(reply) === 1;
    },
    async record(sessionId, messageId, owner) {
      const reply = await call('record message', () => client.lifelineMessageRecord(keysFor(sessionId), [ttl, messageId, owner, String(options.dedupeWindow)]));
      return Number(reply) === 1;
    },
  };
}
