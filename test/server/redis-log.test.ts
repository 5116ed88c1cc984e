// The Redis EventLog against a real redis-server: layout, one round trip per publish, the
// idempotency key, fleet-wide message ids, and the epoch rule when Redis may have lost writes.
import { afterEach, describe, expect, it } from 'vitest';
import { LogError } from '../../src/server/event-log.js';
import { createRedisLog, type RedisLog, type RedisLogOptions } from '../../src/server/redis/redis-log.js';
import { createFaultProxy } from '../support/fault-proxy.js';
import { countCommands, total } from '../support/redis-commands.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

const SECRET = 'test-secret-0123456789';
const servers: RedisServer[] = [];
const logs: RedisLog[] = [];

afterEach(async () => {
  await Promise.all(logs.splice(0).map((l) => l.close?.().catch(() => undefined)));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function redis(options: Parameters<typeof startRedis>[0] = {}): Promise<RedisServer> {
  const server = await startRedis(options);
  servers.push(server);
  return server;
}

async function openLog(server: RedisServer, options: Partial<RedisLogOptions> = {}): Promise<RedisLog> {
  const log = createRedisLog({ url: server.url, secret: SECRET, ...options });
  logs.push(log);
  await log.open?.();
  return log;
}

const tick = (n: number) => ({ type: 'tick', data: { n }, event_id: `ev-${n}`, timestamp: n });

/** Retry `run` until it stops throwing `unavailable` (the client reconnects by itself). */
async function whenReachable<T>(run: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof LogError) || error.code !== 'unavailable' || performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe('createRedisLog', () => {
  it('keeps one session in hash-tagged keys and replays by seq', async () => {
    const server = await redis();
    const log = await openLog(server, { replayWindow: 3 });
    const record = await log.createSession('s1', 'demo', log.ownerOf?.('token-a'));
    expect(await log.getSession('s1')).toEqual(record);
    for (let n = 1; n <= 5; n++) expect(await log.append('s1', tick(n))).toMatchObject({ seq: n, epoch: record.epoch, duplicate: false });
    expect(await log.position('s1')).toEqual({ epoch: record.epoch, head: 5, oldest: 3 });
    expect((await log.readAfter('s1', 3)).map((e) => e.seq)).toEqual([4, 5]);
    expect((await log.readAfter('s1', 0, 2)).map((e) => e.event.data)).toEqual([{ n: 3 }, { n: 4 }]);
    const keys = (await server.cli('--scan')).split('\n').sort();
    expect(keys).toEqual(['lifeline:{s1}:events', 'lifeline:{s1}:meta']);
    expect(await server.cli('xrange', 'lifeline:{s1}:events', '-', '+', 'count', '1')).toContain('3-0');
  });

  it('stores an HMAC of the token keyed with the deployment secret, never a bare hash', async () => {
    const server = await redis();
    const a = await openLog(server);
    const b = createRedisLog({ url: server.url, secret: 'another-secret-0123456789' });
    expect(a.ownerOf?.('tok')).not.toBe(b.ownerOf?.('tok'));
    expect(a.ownerOf?.('tok')).toBe(a.ownerOf?.('tok'));
    expect(() => createRedisLog({ url: server.url, secret: 'short' })).toThrow(/secret/);
  });

  it('publishes in exactly one round trip (EVALSHA), with the script doing the rest', async () => {
    const server = await redis();
    const log = await openLog(server);
    await log.createSession('s1', 'demo');
    await log.append('s1', tick(0)); // loads the script (the first EVALSHA may meet NOSCRIPT)
    const executed = await countCommands(server, async () => {
      for (let n = 1; n <= 20; n++) await log.append('s1', tick(n));
    });
    expect(executed.sent).toEqual({ evalsha: 20 });
    expect(total(executed.sent) / 20).toBe(1);
    expect(executed.inScripts).toMatchObject({ xadd: 20, hincrby: 20, spublish: 20 });
    // commandstats sees every command, script-internal ones too; each is accounted for above.
    expect(total(executed.stats)).toBe(total(executed.sent) + total(executed.inScripts));
  });

  it('returns the first seq for a repeated idempotency key', async () => {
    const server = await redis();
    const log = await openLog(server);
    await log.createSession('s1', 'demo');
    const first = await log.append('s1', tick(1), { idempotencyKey: 'k1' });
    const again = await log.append('s1', tick(1), { idempotencyKey: 'k1' });
    expect(again).toMatchObject({ seq: first.seq, duplicate: true });
    expect((await log.position('s1')).head).toBe(1);
  });

  it('deduplicates client message ids across logs (nodes) within a bound', async () => {
    const server = await redis();
    const a = await openLog(server, { dedupeWindow: 2 });
    const b = await openLog(server, { dedupeWindow: 2 });
    await a.createSession('s1', 'demo');
    expect(await a.claimMessageId('s1', 'm1')).toBe(true);
    expect(await b.claimMessageId('s1', 'm1')).toBe(false);
    await b.claimMessageId('s1', 'm2');
    await b.claimMessageId('s1', 'm3');
    expect(await server.cli('zcard', 'lifeline:{s1}:ids')).toBe('2');
    expect(await a.claimMessageId('s1', 'm1')).toBe(true); // evicted: the bound holds
  });

  it('returns a concurrently created session instead of a second epoch', async () => {
    const server = await redis();
    const a = await openLog(server);
    const b = await openLog(server);
    const [x, y] = await Promise.all([a.createSession('s1', 'demo', 'o'), b.createSession('s1', 'other', 'p')]);
    expect(x).toEqual(y);
  });

  it('keeps the epoch across a restart with appendfsync always', async () => {
    const server = await redis({ appendfsync: 'always' });
    const log = await openLog(server);
    const { epoch } = await log.createSession('s1', 'demo');
    for (let n = 1; n <= 3; n++) await log.append('s1', tick(n));
    servers.push(await server.restart());
    expect(await whenReachable(() => log.position('s1'))).toEqual({ epoch, head: 3, oldest: 1 });
    expect(await log.append('s1', tick(4))).toMatchObject({ seq: 4, epoch });
  });

  it('moves to a new epoch before reusing a seq after a restart with appendfsync everysec', async () => {
    const server = await redis({ appendfsync: 'everysec' });
    const log = await openLog(server);
    const { epoch } = await log.createSession('s1', 'demo');
    for (let n = 1; n <= 3; n++) await log.append('s1', tick(n));
    await server.cli('bgrewriteaof'); // the data is on disk; what matters is that it might not be
    servers.push(await server.restart());
    const moved = await whenReachable(() => log.append('s1', tick(4)));
    expect(moved.epoch).not.toBe(epoch);
    expect(moved.seq).toBe(1);
    expect((await log.readAfter('s1', 0)).map((e) => e.event.data)).toEqual([{ n: 4 }]);
  });

  it('moves to a new epoch when a replica that missed writes is promoted', async () => {
    const primary = await redis();
    // The replica follows through a proxy, so the test decides which writes it never receives.
    const link = await createFaultProxy({ target: { host: '127.0.0.1', port: primary.port } });
    const replica = await redis({ replicaOf: link });
    const log = await openLog(primary);
    const { epoch } = await log.createSession('s1', 'demo');
    await log.append('s1', tick(1));
    expect(await primary.cli('wait', '1', '5000')).toBe('1');
    link.stall(); // it will never receive seq 2 and 3
    await log.append('s1', tick(2));
    await log.append('s1', tick(3));
    await primary.kill();
    await link.close();
    await replica.cli('replicaof', 'no', 'one');
    expect(await replica.cli('hget', 'lifeline:{s1}:meta', 'head')).toBe('1');
    const promoted = await openLog(replica);
    const next = await promoted.append('s1', tick(4));
    // seq 2 was acknowledged on the old primary: reusing it in the same epoch would be a lie.
    expect(next.epoch).not.toBe(epoch);
    expect(next.seq).toBe(1);
  });

  it('rejects with a typed unavailable error while Redis is down, and recovers by itself', async () => {
    const server = await redis();
    const log = await openLog(server);
    await log.createSession('s1', 'demo');
    await server.kill();
    await expect(log.append('s1', tick(1))).rejects.toMatchObject({ code: 'unavailable' });
    expect(log.isReachable()).toBe(false);
    servers.push(await server.restart());
    // Restarted empty: the session is gone, and the log says so.
    await expect(whenReachable(() => log.append('s1', tick(1)))).rejects.toMatchObject({ code: 'session_not_found' });
    expect(await log.getSession('s1')).toBeUndefined();
  });
});
