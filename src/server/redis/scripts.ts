// The Lua scripts of the Redis log, one per operation, so that each operation is one round trip
// and atomic (the shape Centrifuge uses for its stream broker). Every script takes the session's
// five keys (see keys.ts) and starts with the same three arguments:
//   ARGV[1] '1' when this node's writes are durable, ARGV[2] a fresh epoch to use if the history
//   must move, ARGV[3] the key TTL in ms ('0': none).
// `settle()` compares the Redis run_id the session was last written under with the server's own,
// read inside the script (INFO server, ~2.4 us measured) so the check is atomic with the write and
// right on every cluster shard. A different run_id means another Redis process holds the keys (a
// restart, a promoted replica). If the last writes were not durable some may be lost and the head
// may have gone back, so the session moves to a new epoch with a new, empty stream BEFORE any seq
// is assigned again. Never renumber. (run_id, not master_replid: a restart changes both, and a
// promoted replica keeps a replid2 that would hide the promotion.)
import { defineScript, type CommandParser } from 'redis';

const SETTLE = `
local function runId()
  return string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
end
local function settle()
  local RID = runId()
  local m = redis.call('HMGET', KEYS[1], 'epoch', 'rid', 'dur')
  if not m[1] then return false end
  local epoch = m[1]
  if m[2] ~= RID then
    if m[3] ~= '1' then
      epoch = ARGV[2]
      redis.call('DEL', KEYS[2], KEYS[4], KEYS[5])
      redis.call('HSET', KEYS[1], 'epoch', epoch, 'head', '0', 'moved_from', m[1])
    end
    redis.call('HSET', KEYS[1], 'rid', RID, 'dur', ARGV[1])
  end
  return epoch
end
local function refresh()
  if ARGV[3] ~= '0' then
    for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
  end
end
local function position(epoch)
  local m = redis.call('HMGET', KEYS[1], 'agent', 'owner', 'head')
  local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
  local oldest = 0
  if first[1] then oldest = tonumber(string.match(first[1][1], '^(%d+)')) end
  return {epoch, m[1], m[2] or '', tonumber(m[3]), oldest}
end
`;

/** Passes the five keys, then the arguments; all scripts share this signature. */
function parseCommand(parser: CommandParser, keys: readonly string[], args: readonly string[]): void {
  for (const key of keys) parser.pushKey(key);
  parser.push(...args);
}

/** Replies are checked by the caller (see redis-log.ts), so they pass through untyped. */
const transformReply = (reply: unknown): unknown => reply;

function script(body: string) {
  return defineScript({ SCRIPT: SETTLE + body, NUMBER_OF_KEYS: 5, parseCommand, transformReply });
}

/**
 * Load (and with ARGV[4] = agent, create if absent) a session. ARGV[5] is the owner digest.
 * Returns {epoch, agent, owner ('' for none), head, oldest, created} or {} for an unknown session.
 */
const LIFELINE_OPEN = script(`
local epoch = settle()
local created = 0
if not epoch then
  if ARGV[4] == '' then return {} end
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'agent', ARGV[4], 'owner', ARGV[5], 'epoch', epoch, 'head', '0', 'rid', runId(), 'dur', ARGV[1])
  created = 1
end
refresh()
local p = position(epoch)
p[6] = created
return p
`);

/**
 * Append one event: check the idempotency key, increment the head, XADD `<seq>-0` with MAXLEN,
 * publish `<seq>:<epoch>:<json>` for fan-out. ARGV[4] window, ARGV[5] event JSON, ARGV[6]
 * idempotency key ('' for none), ARGV[7] channel, ARGV[8] PUBLISH or SPUBLISH.
 * Returns {seq, epoch, duplicate (0/1)}.
 */
const LIFELINE_APPEND = script(`
local epoch = settle()
if not epoch then return redis.error_reply('LIFELINE_NO_SESSION') end
if ARGV[6] ~= '' then
  local done = redis.call('ZSCORE', KEYS[5], ARGV[6])
  if done then return {tonumber(done), epoch, 1} end
end
local seq = redis.call('HINCRBY', KEYS[1], 'head', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[4], seq .. '-0', 'e', ARGV[5])
if ARGV[6] ~= '' then
  redis.call('ZADD', KEYS[5], seq, ARGV[6])
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', seq - tonumber(ARGV[4]))
end
redis.call(ARGV[8], ARGV[7], seq .. ':' .. epoch .. ':' .. ARGV[5])
refresh()
return {seq, epoch, 0}
`);

/** Record a client message id; ARGV[4] the id, ARGV[5] how many to keep. Returns 1 if new, 0 for a resend. */
const LIFELINE_CLAIM = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('LIFELINE_NO_SESSION') end
if redis.call('ZSCORE', KEYS[3], ARGV[4]) then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'mc', 1)
redis.call('ZADD', KEYS[3], n, ARGV[4])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[5]) + 1))
refresh()
return 1
`);

/** Store the resync state (ARGV[4], JSON) at the current head. Returns {epoch, head}. */
const LIFELINE_SET_STATE = script(`
local epoch = settle()
if not epoch then return redis.error_reply('LIFELINE_NO_SESSION') end
local head = redis.call('HGET', KEYS[1], 'head')
redis.call('HSET', KEYS[4], 's', ARGV[4], 'c', head)
refresh()
return {epoch, tonumber(head)}
`);

/** The resync state: {json, cursor}, or {} when none was set (or the history moved). */
const LIFELINE_GET_STATE = script(`
local epoch = settle()
if not epoch then return redis.error_reply('LIFELINE_NO_SESSION') end
local s = redis.call('HMGET', KEYS[4], 's', 'c')
if not s[1] then return {} end
return {s[1], tonumber(s[2])}
`);

/** Refresh the TTL of a session's keys (a node holds a connection to it). Returns 0 if unknown. */
const LIFELINE_TOUCH = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
refresh()
return 1
`);

/** Every script the log uses, for `createClient({ scripts })`. */
export const LIFELINE_SCRIPTS = {
  lifelineOpen: LIFELINE_OPEN,
  lifelineAppend: LIFELINE_APPEND,
  lifelineClaim: LIFELINE_CLAIM,
  lifelineSetState: LIFELINE_SET_STATE,
  lifelineGetState: LIFELINE_GET_STATE,
  lifelineTouch: LIFELINE_TOUCH,
};

/** The names of the log's scripts. */
export type LifelineScript = keyof typeof LIFELINE_SCRIPTS;
