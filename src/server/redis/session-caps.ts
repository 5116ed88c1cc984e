// Session caps counted in Redis, so the caps hold across every node sharing the store. Each
// counted session is a member of sorted sets scored by its expiry on Redis's own clock (TIME):
// one for all sessions, one per owner tag, one per address. A claim, a release and a refresh
// of a whole batch are each one Lua script (one round trip, atomic). Members past their expiry
// never count, so a session whose node died stops counting after the session TTL, like its keys.
import { LogError } from '../event-log.js';
import { luaScript } from './lua-script.js';
import { isErrorReply, type RedisCall } from './redis-link.js';
import type { HeldSession, SessionCapName, SessionCaps, SessionCapVerdict, SessionClaim, SessionLimits } from '../session-caps.js';

// Shared by the three scripts. KEYS[1] the zset of all sessions, KEYS[2] the hash of charges
// (session id -> "<owner>\n<address>", '' for none). The first two arguments: `base` of the
// per-owner and per-address keys (same hash tag, so same slot), `ttl` in ms ('0': never expire).
// The per-owner/address keys are built here from the charge: a release does not know them. Each
// script names the arguments it adds (ARGV[3] on) as locals at its top.
const COMMON = `
local base = ARGV[1]
local ttl = tonumber(ARGV[2])
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function expiry(now)
  if ttl == 0 then return 1e15 end
  return now + ttl
end
-- Every member expires within ttl, so its key may too (an emptied key is gone at once).
local function keep(key)
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
end
local function keyOf(kind, name)
  if name == '' then return false end
  return base .. ':' .. kind .. ':' .. name
end
local function chargeOf(id)
  local c = redis.call('HGET', KEYS[2], id)
  if not c then return false, false end
  local owner, address = string.match(c, '^([^\\n]*)\\n(.*)$')
  return keyOf('owner', owner or ''), keyOf('address', address or '')
end
local function forget(id)
  local ownerKey, addressKey = chargeOf(id)
  if ownerKey then redis.call('ZREM', ownerKey, id) end
  if addressKey then redis.call('ZREM', addressKey, id) end
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
end
local function prune(now)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 100)) do forget(id) end
end
local function live(now)
  return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
end
-- 'live', 'lapsed' (past its expiry, not yet pruned) or false.
local function stateOf(id, now)
  local score = redis.call('ZSCORE', KEYS[1], id)
  if not score then return false end
  if tonumber(score) > now then return 'live' end
  return 'lapsed'
end
-- Push out a live id's expiry in every set it is counted in; \`kept\` collects the keys to PEXPIRE.
local function refresh(id, expires, kept)
  redis.call('ZADD', KEYS[1], 'XX', expires, id)
  local ownerKey, addressKey = chargeOf(id)
  if ownerKey then redis.call('ZADD', ownerKey, 'XX', expires, id); kept[ownerKey] = true end
  if addressKey then redis.call('ZADD', addressKey, 'XX', expires, id); kept[addressKey] = true end
end
local function keepAll(kept)
  kept[KEYS[1]] = true
  kept[KEYS[2]] = true
  for key in pairs(kept) do keep(key) end
end
local function below(key, limit, now)
  if not key then return true end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  return redis.call('ZCARD', key) < limit
end
`;

function script(body: string) {
  return luaScript(COMMON + body);
}

/**
 * Count session `id`, charged to `owner` and `address` ('' for none), or refuse it naming the cap
 * that is full. A live id is refreshed and admitted again. Returns {1, live} or {0, cap name, live}.
 */
const CAPS_CLAIM = script(`
local id, owner, address = ARGV[3], ARGV[4], ARGV[5]
local totalCap, ownerCap, addressCap = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local now = clock()
prune(now)
local expires = expiry(now)
local state = stateOf(id, now)
if state == 'live' then
  local kept = {}
  refresh(id, expires, kept)
  keepAll(kept)
  return {1, live(now)}
end
if state == 'lapsed' then forget(id) end
local counted = live(now)
if counted >= totalCap then return {0, 'total', counted} end
local ownerKey, addressKey = keyOf('owner', owner), keyOf('address', address)
if not below(ownerKey, ownerCap, now) then return {0, 'perOwner', counted} end
if not below(addressKey, addressCap, now) then return {0, 'perAddress', counted} end
redis.call('ZADD', KEYS[1], expires, id)
redis.call('HSET', KEYS[2], id, owner .. '\\n' .. address)
if ownerKey then redis.call('ZADD', ownerKey, expires, id); keep(ownerKey) end
if addressKey then redis.call('ZADD', addressKey, expires, id); keep(addressKey) end
keep(KEYS[1])
keep(KEYS[2])
return {1, counted + 1}
`);

/** Stop counting session `id`. Returns the live count. */
const CAPS_RELEASE = script(`
local id = ARGV[3]
forget(id)
return live(clock())
`);

/**
 * Keep the held sessions counted: the arguments from ARGV[3] on are pairs of id and owner ('' none),
 * as many as the batch holds, read pair by pair. A live id has its expiry pushed out; one that
 * lapsed or was pruned (no connection for the TTL, kept alive only by publishes, then resumed) is
 * counted again, charged to its owner only (the creating address is unknown by now), whatever the
 * caps say: a held session exists, so it counts. Returns the live count.
 */
const CAPS_REFRESH = script(`
local now = clock()
prune(now)
local expires = expiry(now)
local kept = {}
for i = 3, #ARGV, 2 do
  local id, owner = ARGV[i], ARGV[i + 1]
  local state = stateOf(id, now)
  if state == 'live' then
    refresh(id, expires, kept)
  else
    if state == 'lapsed' then forget(id) end
    redis.call('ZADD', KEYS[1], expires, id)
    redis.call('HSET', KEYS[2], id, owner .. '\\n')
    local ownerKey = keyOf('owner', owner)
    if ownerKey then redis.call('ZADD', ownerKey, expires, id); kept[ownerKey] = true end
  end
end
keepAll(kept)
return live(now)
`);

/** The caps scripts, for `createClient({ scripts })` (the Redis log registers them). */
export const SESSION_CAP_SCRIPTS = {
  lifelineCapsClaim: CAPS_CLAIM,
  lifelineCapsRelease: CAPS_RELEASE,
  lifelineCapsRefresh: CAPS_REFRESH,
};

/** A node-redis client (standalone or cluster) created with {@link SESSION_CAP_SCRIPTS}. */
export interface SessionCapsClient {
  lifelineCapsClaim(keys: readonly string[], args: readonly string[]): Promise<unknown>;
  lifelineCapsRelease(keys: readonly string[], args: readonly string[]): Promise<unknown>;
  lifelineCapsRefresh(keys: readonly string[], args: readonly string[]): Promise<unknown>;
}

/** Options for {@link createRedisSessionCaps}. */
export interface RedisSessionCapsOptions {
  /** Prefix of the keys; every cap key is `<prefix>{caps}:…`, one cluster slot. @default 'lifeline:' */
  readonly keyPrefix?: string;
  /**
   * How long a counted session stays counted without a refresh (the Redis log's `sessionTtlMs`),
   * in ms. 0: until released. @default 3600000
   */
  readonly sessionTtlMs?: number;
  /** Ids refreshed per script call (bounds how long one script blocks Redis: about 9 µs an id); a larger batch takes several. @default 500 */
  readonly refreshBatch?: number;
  /**
   * Runs each call (the Redis fleet passes its own, with its deadlines, metrics and reachability).
   * @default maps failures to `unavailable`, and rejects `unavailable` after `commandTimeoutMs`
   */
  readonly call?: RedisCall;
  /** Delay before a refused `unavailable` claim should be retried, for the default `call`. @default 1000 */
  readonly retryAfterMs?: number;
  /**
   * For the default `call`: how long a call may wait for Redis. node-redis's own command timeout
   * stops once a command is written, so a stalled link would hold a join forever. @default 2000
   */
  readonly commandTimeoutMs?: number;
}

/** Keys of the caps under `prefix`, all with the hash tag `{caps}`. */
export function sessionCapKeys(prefix: string): { readonly all: string; readonly charges: string; readonly base: string } {
  const base = `${prefix}{caps}`;
  return { all: `${base}:all`, charges: `${base}:charges`, base };
}

function defaultCall(retryAfterMs: number, timeoutMs: number): RedisCall {
  return async (what, run) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LogError('unavailable', `Redis did not answer ${what} within ${timeoutMs} ms.`, retryAfterMs)), timeoutMs);
    });
    try {
      return await Promise.race([run(), late]);
    } catch (error) {
      if (error instanceof LogError) throw error;
      // A refusal (LOADING after a restart, READONLY after a failover, ...) is Redis unable to serve too.
      const why = isErrorReply(error) ? 'Redis refused' : 'Redis is unreachable';
      throw new LogError('unavailable', `${why} (${what}): ${error instanceof Error ? error.message : String(error)}`, retryAfterMs);
    } finally {
      clearTimeout(timer);
    }
  };
}

function isCapName(value: unknown): value is SessionCapName {
  return value === 'total' || value === 'perOwner' || value === 'perAddress';
}

/** The Redis caps: shared by the fleet; `counted` is the fleet's count as of the last call. */
export interface RedisSessionCaps extends SessionCaps {
  claim(claim: SessionClaim): Promise<SessionCapVerdict>;
  release(sessionId: string): Promise<void>;
  refresh(sessions: readonly HeldSession[]): Promise<void>;
  readonly shared: true;
  readonly counted: number;
}

/**
 * {@link SessionCaps} kept in Redis, shared by every gateway on the same store: `shared` is true,
 * so a node that only forgets a session locally leaves its count alone, and `refresh` keeps the
 * sessions a node holds counted (counting again one whose entry lapsed while nobody held it). `counted` is the fleet's count as of the last call.
 */
export function createRedisSessionCaps(
  client: SessionCapsClient,
  limits: SessionLimits,
  options: RedisSessionCapsOptions = {},
): RedisSessionCaps {
  const keys = sessionCapKeys(options.keyPrefix ?? 'lifeline:');
  const ttl = String(options.sessionTtlMs ?? 3_600_000);
  const batch = options.refreshBatch ?? 500;
  const call = options.call ?? defaultCall(options.retryAfterMs ?? 1000, options.commandTimeoutMs ?? 2000);
  const scriptKeys = [keys.all, keys.charges];
  let counted = 0;
  const common = [keys.base, ttl];
  return {
    shared: true,
    async claim(claim): Promise<SessionCapVerdict> {
      const args = [...common, claim.sessionId, claim.owner ?? '', claim.address ?? '', String(limits.total), String(limits.perOwner), String(limits.perAddress)];
      const reply = (await call('session caps', () => client.lifelineCapsClaim(scriptKeys, args))) as [number, ...unknown[]];
      if (Number(reply[0]) === 1) {
        counted = Number(reply[1]);
        return { ok: true };
      }
      const [, cap, live] = reply;
      counted = Number(live);
      if (!isCapName(cap)) throw new LogError('unavailable', `Redis answered the session cap claim with an unknown cap ${String(cap)}.`);
      return { ok: false, cap, limit: limits[cap] };
    },
    async release(sessionId) {
      counted = Number(await call('session caps', () => client.lifelineCapsRelease(scriptKeys, [...common, sessionId])));
    },
    async refresh(sessions) {
      for (let i = 0; i < sessions.length; i += batch) {
        const pairs = sessions.slice(i, i + batch).flatMap((held) => [held.sessionId, held.owner ?? '']);
        counted = Number(await call('session caps', () => client.lifelineCapsRefresh(scriptKeys, [...common, ...pairs])));
      }
    },
    get counted() {
      return counted;
    },
  };
}
