// The Redis EventLog against a real redis-server: layout, one round trip per publish, the
// idempotency key, fleet-wide message ids, and the epoch rule when Redis may have lost writes.
import { afterEach, describe, expect, it } from 'vitest';
import { LogError } from '../../src/server/event-log.js';
import type { Fleet, LiveEvent } from '../../src/server/fleet.js';
import type { RedisFleetOptions } from '../../src/server/redis/options.js';
import { createRedisFleet } from '../../src/server/redis/redis-fleet.js';
import type { RedisLog } from '../../src/server/redis/redis-log.js';
import { appendOne } from '../support/append-one.js';
import { createFaultProxy } from '../support/fault-proxy.js';
import { countCommands, total } from '../support/redis-commands.js';
import { aofTail, replicaCaughtUp, startRedis, type RedisServer } from '../support/redis-server.js';
import { waitForAsync } from '../support/wait-for.js';

const SECRET = 'test-secret-0123456789';
const servers: RedisServer[] = [];
const logs: RedisLog[] = [];

afterEach(async () => {
  await Promise.all(logs.splice(0).map((l) => l.close().catch(() => undefined)));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function redis(options: Parameters<typeof startRedis>[0] = {}): Promise<RedisServer> {
  const server = await startRedis(options);
  servers.push(server);
  return server;
}

/** A Redis log, opened, with its fleet beside it (`log.fleet`). */
async function openLog(server: RedisServer, options: Partial<RedisFleetOptions> = {}): Promise<RedisLog & { readonly fleet: Fleet }> {
  const { log, fleet } = createRedisFleet({ url: server.url, secret: SECRET, ...options });
  logs.push(log);
  await log.open();
  return { ...log, fleet };
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

describe('the Redis log', () => {
  it('keeps one session in hash-tagged keys and replays by seq', async () => {
    const server = await redis();
    const log = await openLog(server, { replayWindow: 3 });
    const record = await log.createSession('s1', 'demo', log.ownerOf('token-a'));
    expect(await log.getSession('s1')).toEqual(record);
    for (let n = 1; n <= 5; n++) expect(await appendOne(log, 's1', tick(n))).toMatchObject({ seq: n, epoch: record.epoch, duplicate: false });
    expect(await log.position('s1')).toEqual({ epoch: record.epoch, head: 5, oldest: 3, movedUnseen: false });
    expect(await log.readAfter('s1', 3)).toMatchObject({ epoch: record.epoch, events: [{ seq: 4 }, { seq: 5 }] });
    expect((await log.readAfter('s1', 0, 2)).events.map((e) => e.event.data)).toEqual([{ n: 3 }, { n: 4 }]);
    await expect(log.readAfter('unknown', 0)).rejects.toMatchObject({ code: 'session_not_found' });
    const keys = (await server.cli('--scan')).split('\n').sort();
    expect(keys).toEqual(['lifeline:{s1}:events', 'lifeline:{s1}:meta']);
    expect(await server.cli('xrange', 'lifeline:{s1}:events', '-', '+', 'count', '1')).toContain('3-0');
  });

  it('stores an HMAC of the token keyed with the deployment secret, never a bare hash', async () => {
    const server = await redis();
    const a = await openLog(server);
    const { log: b } = createRedisFleet({ url: server.url, secret: 'another-secret-0123456789' });
    expect(a.ownerOf('tok')).not.toBe(b.ownerOf('tok'));
    expect(a.ownerOf('tok')).toBe(a.ownerOf('tok'));
    expect(() => createRedisFleet({ url: server.url, secret: 'short' })).toThrow(/secret/);
  });

  it('publishes in exactly one round trip (EVALSHA), with the script doing the rest', async () => {
    const server = await redis();
    // No fsync re-check during the count: MONITOR does not show CONFIG, commandstats does.
    const log = await openLog(server, { durabilityCheckMs: 3_600_000 });
    await log.createSession('s1', 'demo');
    await appendOne(log, 's1', tick(0)); // loads the script (the first EVALSHA may meet NOSCRIPT)
    const executed = await countCommands(server, async () => {
      for (let n = 1; n <= 20; n++) await appendOne(log, 's1', tick(n));
    });
    expect(executed.sent).toEqual({ evalsha: 20 });
    expect(total(executed.sent) / 20).toBe(1);
    expect(executed.inScripts).toMatchObject({ xadd: 20, hset: 20, spublish: 20 });
    // commandstats sees every command, script-internal ones too; each is accounted for above.
    expect(total(executed.stats)).toBe(total(executed.sent) + total(executed.inScripts));
  });

  it('stores a burst in one round trip and fans it out as one message, in order, keys checked per event', async () => {
    const server = await redis();
    const log = await openLog(server, { durabilityCheckMs: 3_600_000 });
    await log.createSession('s1', 'demo');
    await appendOne(log, 's1', tick(0), 'k0'); // loads the script
    const live: LiveEvent[] = [];
    await log.fleet.feed.subscribe('s1', (event) => live.push(event), () => undefined);
    let results: readonly { seq: number; duplicate: boolean }[] = [];
    const executed = await countCommands(server, async () => {
      results = await log.append('s1', [{ event: tick(1), idempotencyKey: 'k1' }, { event: tick(2) }, { event: tick(1), idempotencyKey: 'k1' }, { event: tick(0), idempotencyKey: 'k0' }, { event: tick(3) }]);
    });
    expect(results.map((r) => [r.seq, r.duplicate])).toEqual([[2, false], [3, false], [2, true], [1, true], [4, false]]);
    expect(executed.sent).toEqual({ evalsha: 1 });
    expect(executed.inScripts).toMatchObject({ xadd: 3, spublish: 1 });
    await waitForAsync(async () => live.length === 3, 5000, 'the burst on the feed');
    expect(live.map((e) => [e.seq, (e.event.data as { n: number }).n])).toEqual([[2, 1], [3, 2], [4, 3]]);
    expect((await log.readAfter('s1', 0)).events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('returns the first seq for a repeated idempotency key', async () => {
    const server = await redis();
    const log = await openLog(server);
    await log.createSession('s1', 'demo');
    const first = await appendOne(log, 's1', tick(1), 'k1');
    const again = await appendOne(log, 's1', tick(1), 'k1');
    expect(again).toMatchObject({ seq: first.seq, duplicate: true });
    expect((await log.position('s1')).head).toBe(1);
  });

  it('claims client message ids fleet-wide: in flight under one node with a lease on Redis time, applied once recorded, within a bound', async () => {
    const server = await redis();
    const a = await openLog(server, { dedupeWindow: 2 });
    const b = await openLog(server, { dedupeWindow: 2 });
    await a.createSession('s1', 'demo');
    const A = { owner: 'a/1', leaseMs: 300 };
    const B = { owner: 'b/1', leaseMs: 300 };
    expect(await a.claimMessage('s1', 'm1', A)).toEqual({ status: 'claimed', takenOver: false });
    const meanwhile = await b.claimMessage('s1', 'm1', B);
    expect(meanwhile).toMatchObject({ status: 'in_flight' });
    expect(meanwhile.status === 'in_flight' && meanwhile.leaseLeftMs > 0 && meanwhile.leaseLeftMs <= 300).toBe(true);
    expect(await a.recordMessageApplied('s1', 'm1', A.owner)).toBe(true);
    expect(await b.claimMessage('s1', 'm1', B)).toEqual({ status: 'applied' });
    expect(await server.cli('hlen', 'lifeline:{s1}:claims')).toBe('0');

    // A claims m2 and dies: B is told to wait until the lease lapses, then takes it over.
    await a.claimMessage('s1', 'm2', A);
    let last = await b.claimMessage('s1', 'm2', B);
    expect(last.status).toBe('in_flight');
    await waitForAsync(async () => (last = await b.claimMessage('s1', 'm2', B)).status === 'claimed', 5000, "B to take over A's lapsed claim");
    expect(last).toEqual({ status: 'claimed', takenOver: true });
    expect(await a.renewMessageClaim('s1', 'm2', A)).toBe(false);
    expect(await b.renewMessageClaim('s1', 'm2', B)).toBe(true);
    expect(await b.recordMessageApplied('s1', 'm2', B.owner)).toBe(true);
    expect(await a.recordMessageApplied('s1', 'm2', A.owner)).toBe(false); // A's late record: the claim was B's

    await b.claimMessage('s1', 'm3', B);
    await b.recordMessageApplied('s1', 'm3', B.owner);
    expect(await server.cli('zcard', 'lifeline:{s1}:ids')).toBe('2');
    expect(await a.claimMessage('s1', 'm1', A)).toMatchObject({ status: 'claimed' }); // evicted: the bound holds
    await expect(a.claimMessage('nope', 'm1', A)).rejects.toMatchObject({ code: 'session_not_found' });
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
    for (let n = 1; n <= 3; n++) await appendOne(log, 's1', tick(n));
    servers.push(await server.restart());
    expect(await whenReachable(() => log.position('s1'))).toEqual({ epoch, head: 3, oldest: 1, movedUnseen: false });
    expect(await appendOne(log, 's1', tick(4))).toMatchObject({ seq: 4, epoch });
  });

  it('moves to a new epoch before reusing a seq after a restart with appendfsync everysec', async () => {
    const server = await redis({ appendfsync: 'everysec' });
    const log = await openLog(server);
    const { epoch } = await log.createSession('s1', 'demo');
    for (let n = 1; n <= 3; n++) await appendOne(log, 's1', tick(n));
    await server.cli('bgrewriteaof'); // the data is on disk; what matters is that it might not be
    servers.push(await server.restart());
    const moved = await whenReachable(() => appendOne(log, 's1', tick(4)));
    expect(moved.epoch).not.toBe(epoch);
    expect(moved.seq).toBe(1);
    expect((await log.readAfter('s1', 0)).events.map((e) => e.event.data)).toEqual([{ n: 4 }]);
  });

  it('reads a page in the new epoch when the read is the first call after a restart with appendfsync everysec', async () => {
    const server = await redis({ appendfsync: 'everysec' });
    const log = await openLog(server);
    const { epoch } = await log.createSession('s1', 'demo');
    for (let n = 1; n <= 3; n++) await appendOne(log, 's1', tick(n));
    expect(await log.readAfter('s1', 1)).toMatchObject({ epoch, events: [{ seq: 2 }, { seq: 3 }] });
    servers.push(await server.restart());
    // A paged replay reading on after the restart learns the history moved: never seqs 2 and 3 as before.
    const page = await whenReachable(() => log.readAfter('s1', 1));
    expect(page.epoch).not.toBe(epoch);
    expect(page.events).toEqual([]);
    expect((await log.position('s1')).epoch).toBe(page.epoch);
  });

  it('moves to a new epoch when a replica that missed writes is promoted', async () => {
    const primary = await redis();
    // The replica follows through a proxy, so the test decides which writes it never receives.
    const link = await createFaultProxy({ target: { host: '127.0.0.1', port: primary.port } });
    const replica = await redis({ replicaOf: link });
    const log = await openLog(primary);
    const { epoch } = await log.createSession('s1', 'demo');
    await appendOne(log, 's1', tick(1));
    await replicaCaughtUp(primary, replica);
    link.stall(); // it will never receive seq 2 and 3
    await appendOne(log, 's1', tick(2));
    await appendOne(log, 's1', tick(3));
    await primary.kill();
    await link.close();
    await replica.cli('replicaof', 'no', 'one');
    expect(await replica.cli('hget', 'lifeline:{s1}:meta', 'head')).toBe('1');
    const promoted = await openLog(replica);
    const next = await appendOne(promoted, 's1', tick(4));
    // seq 2 was acknowledged on the old primary: reusing it in the same epoch would be a lie.
    expect(next.epoch).not.toBe(epoch);
    expect(next.seq).toBe(1);
  });

  it('replicated: an event the replicas did not confirm is fanned out, replayed and counted nowhere until a retry confirms it', async () => {
    const primary = await redis();
    const link = await createFaultProxy({ target: { host: '127.0.0.1', port: primary.port } });
    const replica = await redis({ replicaOf: link });
    await replicaCaughtUp(primary, replica); // its initial sync is done: a WAIT counts it
    const a = await openLog(primary, { durability: 'replicated', waitTimeoutMs: 500 });
    const b = await openLog(primary, { durability: 'replicated', waitTimeoutMs: 500 }); // another node
    await a.createSession('s1', 'demo');
    const seen: LiveEvent[] = [];
    await b.fleet.feed.subscribe('s1', (event) => void seen.push(event), () => undefined);
    const { epoch } = await appendOne(a, 's1', tick(1));
    await replicaCaughtUp(primary, replica);
    link.stall();
    await expect(appendOne(a, 's1', tick(2), 'k2')).rejects.toMatchObject({ code: 'unavailable' });
    await expect(appendOne(b, 's1', tick(3), 'k3')).rejects.toMatchObject({ code: 'unavailable' });
    // Seqs 2 and 3 are in the primary's stream, above `confirmed`: no join, replay or feed shows them.
    expect(await primary.cli('hmget', 'lifeline:{s1}:meta', 'head', 'confirmed')).toBe('3\n1');
    expect(await b.position('s1')).toMatchObject({ epoch, head: 1, oldest: 1 });
    expect((await b.readAfter('s1', 0)).events.map((e) => e.seq)).toEqual([1]);
    link.resume();
    // b's app retries with the same key: the same seq, confirmed, and with it a's earlier event
    // (WAIT covers every earlier write), fanned out in order.
    await expect(appendOne(b, 's1', tick(3), 'k3')).resolves.toMatchObject({ seq: 3, duplicate: true });
    expect((await a.readAfter('s1', 1)).events.map((e) => e.event.data)).toEqual([{ n: 2 }, { n: 3 }]);
    await expect(appendOne(a, 's1', tick(2), 'k2')).resolves.toMatchObject({ seq: 2, duplicate: true });
    await expect(appendOne(a, 's1', tick(4))).resolves.toMatchObject({ seq: 4 });
    const deadline = performance.now() + 5000;
    while (seen.length < 4 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('replicated: a client message runs only once a replica has its claim, and is acked once a replica has its record, so a resend after a promotion is still a resend', async () => {
    const primary = await redis();
    const link = await createFaultProxy({ target: { host: '127.0.0.1', port: primary.port } });
    const replica = await redis({ replicaOf: link });
    await replicaCaughtUp(primary, replica);
    const log = await openLog(primary, { durability: 'replicated', waitTimeoutMs: 10_000 });
    await log.createSession('s1', 'demo');
    await replicaCaughtUp(primary, replica);
    link.stall();
    let settled = false;
    const holder = { owner: 'a/1', leaseMs: 10_000 };
    const claim = Promise.resolve(log.claimMessage('s1', 'm1', holder)).finally(() => void (settled = true));
    // The primary has the claim; the handlers (and so the ack) wait for the replica.
    await waitForAsync(async () => (await primary.cli('hget', 'lifeline:{s1}:claims', 'm1')) !== '', 5000, 'the claim on the primary');
    await new Promise((resolve) => setTimeout(resolve, 300)); // a window in which it must not settle
    expect(settled).toBe(false);
    link.resume();
    await expect(claim).resolves.toEqual({ status: 'claimed', takenOver: false });
    await expect(log.recordMessageApplied('s1', 'm1', holder.owner)).resolves.toBe(true);
    await primary.kill();
    await link.close();
    await replica.cli('replicaof', 'no', 'one');
    const promoted = await openLog(replica);
    await expect(promoted.claimMessage('s1', 'm1', { owner: 'b/1', leaseMs: 10_000 })).resolves.toEqual({ status: 'applied' });
  });

  it('replicated: a burst costs its append script, one WAIT and one confirm script, which fans it out in order', async () => {
    const primary = await redis();
    const replica = await redis({ replicaOf: primary });
    await replicaCaughtUp(primary, replica);
    const log = await openLog(primary, { durability: 'replicated', durabilityCheckMs: 3_600_000 });
    await log.createSession('s1', 'demo');
    await appendOne(log, 's1', tick(0)); // loads both scripts
    const live: number[] = [];
    await log.fleet.feed.subscribe('s1', (event) => void live.push(event.seq), () => undefined);
    const executed = await countCommands(primary, async () => {
      await log.append('s1', [1, 2, 3, 4].map((n) => ({ event: tick(n) })));
    });
    expect(executed.sent).toMatchObject({ evalsha: 2, wait: 1 });
    expect(executed.inScripts).toMatchObject({ xadd: 4, spublish: 1 });
    await waitForAsync(async () => live.length === 4, 5000, 'the confirmed burst on the feed');
    expect(live).toEqual([2, 3, 4, 5]);
  });

  it('replicated: a burst that would pass a window of unconfirmed events is refused whole', async () => {
    const primary = await redis();
    const log = await openLog(primary, { durability: 'replicated', waitTimeoutMs: 100, replayWindow: 5 }); // no replica: WAIT fails
    await log.createSession('s1', 'demo');
    const burst = (n: number) => Array.from({ length: n }, (_, i) => ({ event: tick(i) }));
    await expect(log.append('s1', burst(3))).rejects.toMatchObject({ code: 'unavailable' }); // stored, unconfirmed
    await expect(log.append('s1', burst(3))).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/replay window/) });
    expect(await primary.cli('hget', 'lifeline:{s1}:meta', 'head')).toBe('3');
    await expect(log.append('s1', burst(2))).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/replicas confirmed/) });
    expect(await primary.cli('hget', 'lifeline:{s1}:meta', 'head')).toBe('5');
  });

  it('replicated then async: an async writer exposes and fans out what replicated writers left unconfirmed', async () => {
    const primary = await redis();
    const replicated = await openLog(primary, { durability: 'replicated', waitTimeoutMs: 100 }); // no replica: WAIT fails
    const plain = await openLog(primary);
    await replicated.createSession('s1', 'demo');
    const seen: number[] = [];
    await plain.fleet.feed.subscribe('s1', (event) => void seen.push(event.seq), () => undefined);
    await expect(appendOne(replicated, 's1', tick(1))).rejects.toMatchObject({ code: 'unavailable' });
    expect((await plain.position('s1')).head).toBe(0);
    await appendOne(plain, 's1', tick(2));
    expect((await plain.position('s1')).head).toBe(2);
    const deadline = performance.now() + 5000;
    while (seen.length < 2 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen).toEqual([1, 2]);
  });

  it('replicated: a publish refused before fan-out leaves its seq to the next event after a promotion, seen by nobody twice', async () => {
    const primary = await redis();
    const link = await createFaultProxy({ target: { host: '127.0.0.1', port: primary.port } });
    const replica = await redis({ replicaOf: link });
    await replicaCaughtUp(primary, replica);
    const log = await openLog(primary, { durability: 'replicated', waitTimeoutMs: 500 });
    const reader = await openLog(primary);
    const { epoch } = await log.createSession('s1', 'demo');
    const seen = new Map<number, unknown>();
    await reader.fleet.feed.subscribe('s1', (event) => void seen.set(event.seq, event.event.data), () => undefined);
    await appendOne(log, 's1', tick(1));
    await replicaCaughtUp(primary, replica);
    link.stall();
    await expect(appendOne(log, 's1', tick(2))).rejects.toMatchObject({ code: 'unavailable' });
    // What a join on any node would see, and what the feed carried (a marker published after it).
    expect(await reader.position('s1')).toMatchObject({ head: 1 });
    for (const e of (await reader.readAfter('s1', 0)).events) seen.set(e.seq, e.event.data);
    await primary.cli('spublish', 'lifeline:{s1}:fanout', `99:${epoch}:{"type":"marker"}`);
    const deadline = performance.now() + 5000;
    while (!seen.has(99) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    seen.delete(99);
    await primary.kill();
    await link.close();
    await replica.cli('replicaof', 'no', 'one');
    const promoted = await openLog(replica); // the replica, now primary (no replica of its own)
    const next = await appendOne(promoted, 's1', tick(20));
    // The epoch survives the promotion (every exposed event was confirmed) and seq 2 is reused
    // for another event: honest only because nobody ever saw the refused one.
    expect(next).toMatchObject({ epoch, seq: 2 });
    expect([...seen]).toEqual([[1, { n: 1 }]]);
  });

  it('notices appendfsync weakened at run time: a restart that loses the tail moves the epoch before any seq is reused', async () => {
    const server = await redis({ appendfsync: 'always' });
    const log = await openLog(server, { durabilityCheckMs: 50 });
    expect(log.fleet.durability.durableWrites()).toBe(true);
    const { epoch } = await log.createSession('s1', 'demo');
    const published: Array<{ n: number; epoch: string; seq: number }> = [];
    const publish = async (n: number): Promise<void> => {
      const r = await whenReachable(() => appendOne(log, 's1', tick(n)));
      published.push({ n, epoch: r.epoch, seq: r.seq });
    };
    for (let n = 1; n <= 3; n++) await publish(n);
    expect(await server.cli('hget', 'lifeline:{s1}:meta', 'dur')).toBe('1');
    await server.cli('config', 'set', 'appendfsync', 'everysec');
    const deadline = performance.now() + 5000;
    while (log.fleet.durability.durableWrites() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(log.fleet.durability.durableWrites()).toBe(false);
    await publish(4); // records dur '0' with the write
    expect(await server.cli('hget', 'lifeline:{s1}:meta', 'dur')).toBe('0');
    // everysec fsynced up to here; a crash loses what follows.
    const tail = aofTail(server);
    const synced = tail.size();
    await publish(5);
    await publish(6);
    await server.kill();
    tail.truncate(synced);
    servers.push(await server.restart());
    expect(await server.cli('hget', 'lifeline:{s1}:meta', 'head')).toBe('4');
    await publish(7);
    expect(published.at(-1)).toMatchObject({ seq: 1 });
    expect(published.at(-1)?.epoch).not.toBe(epoch);
    const names = new Map<string, number>();
    for (const p of published) {
      const key = `${p.epoch}#${p.seq}`;
      expect(names.get(key) ?? p.n, `(epoch, seq ${p.seq}) names two events`).toBe(p.n);
      names.set(key, p.n);
    }
  });

  it('rejects with a typed unavailable error while Redis is down, and recovers by itself', async () => {
    const server = await redis();
    const log = await openLog(server);
    await log.createSession('s1', 'demo');
    await server.kill();
    await expect(appendOne(log, 's1', tick(1))).rejects.toMatchObject({ code: 'unavailable' });
    expect(log.fleet.health.isReachable()).toBe(false);
    servers.push(await server.restart());
    // Restarted empty: the session is gone, and the log says so.
    await expect(whenReachable(() => appendOne(log, 's1', tick(1)))).rejects.toMatchObject({ code: 'session_not_found' });
    expect(await log.getSession('s1')).toBeUndefined();
  });
});
