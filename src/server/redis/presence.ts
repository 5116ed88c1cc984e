// Fleet-wide presence on Redis: one hash per presence group (an agent's sessions of one owner, or
// one anonymous session), field `<session>|<node>` -> `<connections>:<written at>`, plus one
// lease hash `{presence}:nodes` that every node renews each `fleetReportMs`. Group keys are
// hash-tagged by the group, so groups spread over the cluster's slots and each script touches one
// key. Times come from Redis TIME inside the scripts, so the nodes' clocks never matter.
import { createHash } from 'node:crypto';
import type { PresenceEntry } from '../../protocol/index.js';
import type { PresenceGroup, PresenceStore } from '../fleet.js';
import type { DataClient } from './data-client.js';
import type { RedisCall } from './redis-link.js';

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Renew (`leaseMs` > 0) or end (`leaseMs` = '0') the lease of `node`. Returns
 * {renewed ('1' when the lease was still running), live node...}; drops expired leases.
 */
const BEAT = `${NOW}
local node, leaseMs = ARGV[1], ARGV[2]
local had = redis.call('HGET', KEYS[1], node)
local renewed = '0'
if had and tonumber(had) > now then renewed = '1' end
if leaseMs == '0' then
  redis.call('HDEL', KEYS[1], node)
  return {renewed}
end
redis.call('HSET', KEYS[1], node, tostring(now + tonumber(leaseMs)))
local all = redis.call('HGETALL', KEYS[1])
local out = {renewed}
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) > now then out[#out + 1] = all[i] else redis.call('HDEL', KEYS[1], all[i]) end
end
return out
`;

/** Set `field` (`<session>|<node>`) to `connections` (0 deletes it) and keep the key for `ttlMs` at least. */
const WRITE = `
local field, connections, ttlMs = ARGV[1], ARGV[2], ARGV[3]
if connections == '0' then
  redis.call('HDEL', KEYS[1], field)
  return 0
end
${NOW}
redis.call('HSET', KEYS[1], field, connections .. ':' .. now)
if redis.call('PTTL', KEYS[1]) < tonumber(ttlMs) then redis.call('PEXPIRE', KEYS[1], ttlMs) end
return 1
`;

/**
 * Sum the group's connections per session over every node but `me`, counting a node's entries
 * while it is live (the arguments from ARGV[6] on) or for `grace` ms after they were written.
 * With `prune` the caller's live list is fresh, so entries of other nodes are deleted. Returns at
 * most `limit` sessions as {session, count, ...}, session `own` first.
 */
const READ = `${NOW}
local me, grace, limit, own, prune = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5] == '1'
local live = {}
for i = 6, #ARGV do live[ARGV[i]] = true end
local all = redis.call('HGETALL', KEYS[1])
local counts, order = {}, {}
for i = 1, #all, 2 do
  local sid, node = string.match(all[i], '^([^|]*)|(.*)$')
  local n, at = string.match(all[i + 1], '^(%d+):(%d+)$')
  if not sid or not n then
    redis.call('HDEL', KEYS[1], all[i])
  elseif node ~= me then
    if live[node] or now - tonumber(at) < grace then
      if not counts[sid] then
        counts[sid] = 0
        order[#order + 1] = sid
      end
      counts[sid] = counts[sid] + tonumber(n)
    elseif prune then
      redis.call('HDEL', KEYS[1], all[i])
    end
  end
end
local out = {}
if counts[own] then
  out[1] = own
  out[2] = tostring(counts[own])
end
for _, sid in ipairs(order) do
  if #out >= limit * 2 then break end
  if sid ~= own then
    out[#out + 1] = sid
    out[#out + 1] = tostring(counts[sid])
  end
end
return out
`;

interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const SCRIPTS = { beat: script(BEAT), write: script(WRITE), read: script(READ) };

/** Runs one command on the node that holds `key`. */
type Send = (key: string, args: string[]) => Promise<unknown>;

/** Options for {@link createRedisPresence}. */
export interface RedisPresenceOptions {
  /** The data client (standalone or cluster); the scripts run on it by EVALSHA. */
  readonly client: DataClient;
  readonly isCluster: boolean;
  /** The fleet's key prefix. */
  readonly keyPrefix: string;
  /** Runs each call under the data link's deadline, turning a connection failure into `unavailable`. */
  readonly call: RedisCall;
}

/**
 * Create the presence store on the fleet's data connection. The scripts are sent by EVALSHA, and
 * by EVAL once when Redis does not know them yet (after a restart).
 */
export function createRedisPresence(options: RedisPresenceOptions): PresenceStore {
  const { keyPrefix: prefix } = options;
  // A cluster client routes a raw command by the key passed first; a standalone one takes the arguments alone.
  const { client } = options;
  const send: Send = options.isCluster
    ? (key, args) => (client as Extract<DataClient, { masters: unknown }>).sendCommand(key, false, args)
    : (_key, args) => (client as Exclude<DataClient, { masters: unknown }>).sendCommand(args);
  const enc = encodeURIComponent;
  const leaseKey = `${prefix}{presence}:nodes`;
  // encodeURIComponent escapes `{`, `}`, `:` and `|`, so no id can break the hash tag or the field.
  const groupKey = (g: PresenceGroup): string =>
    `${prefix}{presence:${enc(g.agentId)}:${g.owner === undefined ? `anon:${enc(g.sessionId)}` : `owner:${enc(g.owner)}`}}:sessions`;

  async function run(which: Script, key: string, args: readonly string[]): Promise<unknown> {
    try {
      return await options.call('presence', () => send(key, ['EVALSHA', which.sha, '1', key, ...args]));
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return options.call('presence', () => send(key, ['EVAL', which.source, '1', key, ...args]));
    }
  }

  const strings = (reply: unknown): string[] => (Array.isArray(reply) ? reply.map((x) => String(x)) : []);

  return {
    async beat(node, leaseMs) {
      const [renewed, ...live] = strings(await run(SCRIPTS.beat, leaseKey, [enc(node), String(leaseMs)]));
      return { renewed: renewed === '1', live: live.map(decodeURIComponent) };
    },
    async write(node, group, connections, ttlMs) {
      await run(SCRIPTS.write, groupKey(group), [`${enc(group.sessionId)}|${enc(node)}`, String(connections), String(ttlMs)]);
    },
    async read(node, group, query) {
      const args = [enc(node), String(query.graceMs), String(query.limit), enc(group.sessionId), query.prune ? '1' : '0', ...query.live.map(enc)];
      const flat = strings(await run(SCRIPTS.read, groupKey(group), args));
      const entries: PresenceEntry[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        entries.push({ session_id: decodeURIComponent(flat[i]!), agent_id: group.agentId, connections: Number(flat[i + 1]) });
      }
      return entries;
    },
    async leave(node) {
      await run(SCRIPTS.beat, leaseKey, [enc(node), '0']);
    },
  };
}
