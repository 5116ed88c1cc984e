// The Lua scripts of the Redis log, one per operation, so that each operation is one round trip
// and atomic (the shape Centrifuge uses for its stream broker). Every script takes the session's
// five keys (see keys.ts) and starts with the same three arguments, named in the prelude:
//   `nodeDurable` '1' when this node's writes are durable, `freshEpoch` a fresh epoch to use if
//   the history must move, `ttl` the key TTL in ms ('0': none). Each script names the arguments
//   it adds (ARGV[4] on) as locals at its top.
// `settle()` compares the Redis run_id the session was last written under with the server's own,
// read inside the script so the check is atomic with the write and right on every cluster shard.
// A different run_id means another Redis process holds the keys (a restart, a promoted replica).
// If the last writes were not durable some may be lost and the head may have gone back, so the
// session moves to a new epoch with a new, empty stream BEFORE any seq is assigned again. Never
// renumber. (run_id, not master_replid: a promoted replica keeps a replid2 that would hide the
// promotion.) INFO server is the only per-process identity a script can read (CONFIG and CLIENT
// are refused in scripts, Lua globals are read-only), and the dearest part of a publish: about
// 8 us of 29 us of server time (`npm run bench -- fleet`, case run_id_read; docs/scaling.md).
// `dur` follows the node's flag down at once (CONFIG SET appendfsync everysec at run time: the
// writes from now on may be lost) but up only with a new run_id: a node that has not noticed a
// weakening yet must not undo another node's '0'.
// `confirmed` (replicated durability only) is the highest seq the replicas acknowledged. Events
// above it are in the stream but exposed nowhere: not fanned out, not replayed, not counted in
// the head a join sees. A failover to a replica that never received them can then give their seqs
// to other events without any client having seen two events under one (epoch, seq).
import { luaScript } from './lua-script.js';

const SETTLE = `
local nodeDurable, freshEpoch, ttl = ARGV[1], ARGV[2], ARGV[3]
local function runId()
  return string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
end
-- Returns the epoch, 'confirmed' and the head (a number), or false for an unknown session.
local function settle()
  local RID = runId()
  local m = redis.call('HMGET', KEYS[1], 'epoch', 'rid', 'dur', 'confirmed', 'head')
  if not m[1] then return false end
  local epoch = m[1]
  local confirmed = m[4]
  local head = tonumber(m[5] or '0')
  if m[2] ~= RID then
    if m[3] ~= '1' then
      epoch = freshEpoch
      head = 0
      redis.call('DEL', KEYS[2], KEYS[4], KEYS[5])
      redis.call('HSET', KEYS[1], 'epoch', epoch, 'head', '0', 'moved_from', m[1])
      if confirmed then confirmed = '0' end
    elseif confirmed then
      -- The epoch is kept: this process's stream is the truth now, and none of its seqs was
      -- handed out for another event, so all of it may be exposed.
      confirmed = tostring(head)
    end
    if confirmed then redis.call('HSET', KEYS[1], 'confirmed', confirmed) end
    redis.call('HSET', KEYS[1], 'rid', RID, 'dur', nodeDurable)
  elseif m[3] == '1' and nodeDurable ~= '1' then
    redis.call('HSET', KEYS[1], 'dur', nodeDurable)
  end
  return epoch, confirmed, head
end
local function refresh()
  if ttl ~= '0' then
    for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
-- The newest seq any reader may see: the replicas' confirmed head, or the head.
local function visibleHead()
  local m = redis.call('HMGET', KEYS[1], 'head', 'confirmed')
  return tonumber(m[2] or m[1])
end
-- The live feed's messages: lines '<seq>:<epoch>:<json>' joined by newlines (JSON text has none),
-- at most 256 lines or 1 MiB a message (the gateway's burst bounds), published with the given
-- (S)PUBLISH on the given channel. add() queues a line, flush() publishes what is queued.
local function feedWriter(command, channel)
  local lines, size = {}, 0
  local writer = {}
  function writer.flush()
    if #lines == 0 then return end
    redis.call(command, channel, table.concat(lines, '\\n'))
    lines, size = {}, 0
  end
  function writer.add(seq, epoch, json)
    local line = seq .. ':' .. epoch .. ':' .. json
    if #lines >= 256 or (#lines > 0 and size + #line > 1048576) then writer.flush() end
    lines[#lines + 1] = line
    size = size + #line + 1
  end
  return writer
end
-- Queue the stream's events in (after, upto] on writer, in order.
local function fanOut(after, upto, epoch, writer)
  local events = redis.call('XRANGE', KEYS[2], '(' .. after .. '-0', upto .. '-0')
  for _, entry in ipairs(events) do
    writer.add(string.match(entry[1], '^(%d+)'), epoch, entry[2][2])
  end
  return #events
end
local function position(epoch)
  local m = redis.call('HMGET', KEYS[1], 'agent', 'owner')
  local head = visibleHead()
  local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
  local oldest = 0
  if first[1] and head > 0 then oldest = tonumber(string.match(first[1][1], '^(%d+)')) end
  return {epoch, m[1], m[2] or '', head, oldest}
end
`;

/** A script of the log: the shared prelude, then `body`; called with the five keys (replies are checked by redis-log.ts). */
function script(body: string) {
  return luaScript(SETTLE + body);
}

/**
 * Load (and with `agent` set, create if absent) a session; `owner` is the owner digest. Returns
 * {epoch, agent, owner ('' for none), head, oldest, created, moved_from ('' for none)} or {} for
 * an unknown session. `moved_from` is kept from a move until LIFELINE_MOVE_SEEN.
 */
const LIFELINE_OPEN = script(`
local agent, owner = ARGV[4], ARGV[5]
local epoch = settle()
local created = 0
if not epoch then
  if agent == '' then return {} end
  epoch = freshEpoch
  redis.call('HSET', KEYS[1], 'agent', agent, 'owner', owner, 'epoch', epoch, 'head', '0', 'rid', runId(), 'dur', nodeDurable)
  created = 1
end
refresh()
local p = position(epoch)
p[6] = created
p[7] = redis.call('HGET', KEYS[1], 'moved_from') or ''
return p
`);

/**
 * Append a burst of events in order: for each, check its idempotency key, take the next seq, XADD
 * `<seq>-0` with MAXLEN; then publish the new ones for fan-out, in one message (feedWriter).
 * `publish` is PUBLISH or SPUBLISH, or '' for replicated durability: then nothing is published
 * and the events stay above `confirmed` until LIFELINE_CONFIRM runs after a successful WAIT.
 * ARGV[7] on: a pair per event, its JSON and its idempotency key ('' for none). Returns
 * {epoch, seq, duplicate (0/1), seq, duplicate, ...}, a pair per event.
 */
const LIFELINE_APPEND = script(`
local window, channel, publish = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local FIRST_EVENT = 7
local epoch, confirmed, head = settle()
if not epoch then return redis.error_reply('LIFELINE_NO_SESSION') end
local count = (#ARGV - FIRST_EVENT + 1) / 2
if publish == '' and confirmed then
  -- Unconfirmed events must stay in the stream until confirmed (or a promotion settles them):
  -- past a window of them, refuse rather than trim what readers have not seen yet. A burst
  -- that would pass the bound is refused whole.
  if head + count - tonumber(confirmed) > window then return redis.error_reply('LIFELINE_UNCONFIRMED') end
end
local before = head
local out = {epoch}
local fresh = {}
for i = FIRST_EVENT, #ARGV, 2 do
  local eventJson, idempotencyKey = ARGV[i], ARGV[i + 1]
  local done = idempotencyKey ~= '' and redis.call('ZSCORE', KEYS[5], idempotencyKey)
  if done then
    out[#out + 1] = tonumber(done)
    out[#out + 1] = 1
  else
    head = head + 1
    redis.call('XADD', KEYS[2], 'MAXLEN', window, head .. '-0', 'e', eventJson)
    if idempotencyKey ~= '' then
      redis.call('ZADD', KEYS[5], head, idempotencyKey)
      redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', head - window)
    end
    fresh[#fresh + 1] = eventJson
    out[#out + 1] = head
    out[#out + 1] = 0
  end
end
if head > before then redis.call('HSET', KEYS[1], 'head', head) end
if publish == '' then
  -- Everything before this burst was exposed already; from here on only what is confirmed.
  if not confirmed then redis.call('HSET', KEYS[1], 'confirmed', before) end
else
  local writer = feedWriter(publish, channel)
  -- An async writer exposes at once; a session left by replicated writers stops hiding anything.
  if confirmed then
    fanOut(confirmed, before, epoch, writer)
    redis.call('HDEL', KEYS[1], 'confirmed')
  end
  for n, eventJson in ipairs(fresh) do writer.add(before + n, epoch, eventJson) end
  writer.flush()
end
refresh()
return out
`);

/**
 * After WAIT confirmed an append (replicated durability): raise `confirmed` to the append's `seq`
 * and fan out, in order, every event up to it that was not yet (a WAIT covers every earlier
 * write, so events another writer appended before this one, and the whole burst, are confirmed
 * too). `publish` is PUBLISH or SPUBLISH. Returns the number of events fanned out.
 */
const LIFELINE_CONFIRM = script(`
local appendEpoch, seq, channel, publish = ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7]
local epoch, confirmed = settle()
if not epoch then return redis.error_reply('LIFELINE_NO_SESSION') end
if epoch ~= appendEpoch then return redis.error_reply('LIFELINE_MOVED') end
if not confirmed or seq <= tonumber(confirmed) then return 0 end
local writer = feedWriter(publish, channel)
local count = fanOut(confirmed, seq, epoch, writer)
writer.flush()
redis.call('HSET', KEYS[1], 'confirmed', seq)
return count
`);

/**
 * Events after `after` up to the visible head, at most `limit` of them ('' for all), with the
 * epoch they belong to: {epoch, {{id, {'e', json}}...}}. Settled first, as a session is opened: a
 * page read after Redis lost writes sees the new epoch, never old seqs renumbered.
 */
const LIFELINE_READ = script(`
local after, limit = tonumber(ARGV[4]), ARGV[5]
local epoch = settle()
if not epoch then return redis.error_reply('LIFELINE_NO_SESSION') end
local head = visibleHead()
if head <= after then return {epoch, {}} end
if limit == '' then return {epoch, redis.call('XRANGE', KEYS[2], '(' .. after .. '-0', head .. '-0')} end
return {epoch, redis.call('XRANGE', KEYS[2], '(' .. after .. '-0', head .. '-0', 'COUNT', limit)}
`);

/** Store the resync state (`stateJson`) at the current head. Returns {epoch, head}. */
const LIFELINE_SET_STATE = script(`
local stateJson = ARGV[4]
local epoch = settle()
if not epoch then return redis.error_reply('LIFELINE_NO_SESSION') end
local head = visibleHead()
redis.call('HSET', KEYS[4], 's', stateJson, 'c', head)
refresh()
return {epoch, head}
`);

/** The resync state: {json, cursor}, or {} when none was set (or the history moved). */
const LIFELINE_GET_STATE = script(`
local epoch = settle()
if not epoch then return redis.error_reply('LIFELINE_NO_SESSION') end
local s = redis.call('HMGET', KEYS[4], 's', 'c')
if not s[1] then return {} end
return {s[1], tonumber(s[2])}
`);

/**
 * A join without an epoch was told of the move to `toldEpoch`: forget `moved_from`, unless the
 * history moved again meanwhile (then that newer move is still untold). Returns 1 if cleared.
 */
const LIFELINE_MOVE_SEEN = script(`
local toldEpoch = ARGV[4]
local epoch = settle()
if not epoch or epoch ~= toldEpoch then return 0 end
redis.call('HDEL', KEYS[1], 'moved_from')
return 1
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
  lifelineConfirm: LIFELINE_CONFIRM,
  lifelineRead: LIFELINE_READ,
  lifelineSetState: LIFELINE_SET_STATE,
  lifelineGetState: LIFELINE_GET_STATE,
  lifelineMoveSeen: LIFELINE_MOVE_SEEN,
  lifelineTouch: LIFELINE_TOUCH,
};

/** The names of the log's scripts. */
export type LifelineScript = keyof typeof LIFELINE_SCRIPTS;
