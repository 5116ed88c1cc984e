// A node whose link to Redis stops answering without closing: a TCP proxy that stops forwarding
// (no RST, like a dead route) or a Redis stopped with SIGSTOP. Every call has a deadline, so the
// node refuses publishes and joins `unavailable` within a bounded time, `/health` answers 503
// `degraded` so a balancer stops routing to it, work waiting on Redis is bounded, and the node
// recovers by itself once the link answers again. Short deadlines (options), so no test waits
// out the partition.
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisFleet, LogError, type RedisFleet, type RedisFleetOptions } from '../../src/server/index.js';
import { appendOne } from '../support/append-one.js';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { connect, helloFrame, join, startGateway } from '../support/gateway-kit.js';
import { startRedis, startRedisCluster, type RedisServer } from '../support/redis-server.js';
import { waitForAsync, within } from '../support/wait-for.js';

const SECRET = 'test-secret-0123456789';
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Deadlines short enough that no test waits long (a stall is noticed within about 1.2 s), with room for a loaded machine. */
const SHORT: Partial<RedisFleetOptions> = { commandTimeoutMs: 1000, pingIntervalMs: 200 };

async function redis(): Promise<RedisServer> {
  const server = await startRedis();
  cleanups.push(() => server.stop());
  return server;
}

/** A TCP proxy between the node and Redis: the link that will stall. */
async function link(server: RedisServer): Promise<FaultProxy> {
  const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: server.port } });
  cleanups.push(() => proxy.close());
  return proxy;
}

function redisFleet(port: number, options: Partial<RedisFleetOptions> = {}): RedisFleet {
  return createRedisFleet({ url: `redis://127.0.0.1:${port}`, secret: SECRET, ...SHORT, ...options });
}

async function health(port: number): Promise<{ http: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  return { http: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** How long `promise` takes to settle, and how it settled. */
async function timed<T>(promise: Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { ms: performance.now() - started, error };
}

describe('a node whose Redis stops answering', () => {
  it('refuses publishes and joins unavailable within the deadline, answers /health 503, and recovers once the link answers', { timeout: 20_000 }, async () => {
    const server = await redis();
    const proxy = await link(server);
    const node = await startGateway({ ...redisFleet(proxy.port), fleetReportMs: 100 });
    const first = await join(node, { protocol_max: 1 });
    const sessionId = String(first.helloOk['session_id']);
    await node.publish(sessionId, { type: 'tick' });
    expect((await health(node.port)).http).toBe(200);

    proxy.stall();
    // The publish in flight when the link stalled gets its deadline, not the partition's length.
    const stuck = await within(timed(node.publish(sessionId, { type: 'tick', idempotencyKey: 'k-1' })), 5000, 'the publish to settle');
    expect(stuck.error).toMatchObject({ code: 'unavailable' });
    expect(stuck.ms).toBeLessThan(2500);
    // From then on the node knows: publishes fail at once, and /health sends the balancer away.
    const next = await timed(node.publish(sessionId, { type: 'tick' }));
    expect(next.error).toMatchObject({ code: 'unavailable' });
    expect(next.ms).toBeLessThan(100);
    const degraded = await health(node.port);
    expect(degraded.http).toBe(503);
    expect(degraded.body['status']).toBe('degraded');
    // A new join is refused unavailable (4503), well before its handshake timeout.
    const refused = await connect(node);
    refused.send(helloFrame({ protocol_max: 1 }));
    expect(await refused.next('hello_error', 2500)).toMatchObject({ code: 'unavailable', next_step: 'wait_then_retry' });
    expect(await refused.closed()).toMatchObject({ code: 4503 });

    proxy.resume();
    await waitForAsync(async () => (await health(node.port)).http === 200, 5000, '/health to answer 200 again');
    expect(await node.publish(sessionId, { type: 'tick', idempotencyKey: 'k-1' })).toBeGreaterThan(1);
    const again = await join(node, { protocol_max: 1, session_id: sessionId });
    expect(again.helloOk).toMatchObject({ resumed: true });
  });

  it('reports a Redis stopped with SIGSTOP as degraded (503) within the deadline, and ok again after SIGCONT', { timeout: 20_000 }, async () => {
    const server = await redis();
    const node = await startGateway({ ...redisFleet(server.port) });
    expect((await health(node.port)).http).toBe(200);
    server.pause();
    cleanups.push(async () => server.resume());
    // No traffic at all: the node's own probe notices.
    await waitForAsync(async () => (await health(node.port)).http === 503, 3000, '/health to answer 503 while Redis is stopped');
    expect((await health(node.port)).body['status']).toBe('degraded');
    server.resume();
    await waitForAsync(async () => (await health(node.port)).http === 200, 5000, '/health to answer 200 after SIGCONT');
  });

  it('reports a Redis Cluster with one master stopped (SIGSTOP) as degraded (503), and ok again after SIGCONT', { timeout: 30_000 }, async () => {
    const cluster = await startRedisCluster(3);
    cleanups.push(() => cluster.stop());
    const node = await startGateway({ ...createRedisFleet({ url: [...cluster.urls], secret: SECRET, ...SHORT }) });
    expect((await health(node.port)).http).toBe(200);
    const stopped = cluster.nodes[1]!;
    stopped.pause();
    cleanups.push(async () => stopped.resume());
    // The PING goes to every master: one that stops answering degrades the node.
    await waitForAsync(async () => (await health(node.port)).http === 503, 3000, '/health to answer 503 while a master is stopped');
    stopped.resume();
    await waitForAsync(async () => (await health(node.port)).http === 200, 5000, '/health to answer 200 after SIGCONT');
  });

  it('a Redis that answers but refuses to serve (READONLY, as a replica answers after a failover) is a typed unavailable', async () => {
    const primary = await redis();
    const replica = await startRedis({ replicaOf: { port: primary.port } });
    cleanups.push(() => replica.stop());
    const { log, fleet } = redisFleet(replica.port);
    await log.open();
    cleanups.push(() => log.close());
    const refused = await Promise.resolve(log.createSession('s', 'demo')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LogError);
    expect(refused).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/Redis refused .*READONLY/) });
    // The link itself is fine: Redis answered.
    expect(fleet.health.isReachable()).toBe(true);
  });

  it('bounds the calls waiting on Redis: past maxPendingCalls one more is refused at once, with a typed error', { timeout: 20_000 }, async () => {
    const server = await redis();
    const { log } = redisFleet(server.port, { maxPendingCalls: 4 });
    await log.open();
    cleanups.push(() => log.close());
    for (let i = 0; i < 8; i++) await log.createSession(`s${i}`, 'demo');
    server.pause();
    cleanups.push(async () => server.resume());
    const started = performance.now();
    const calls = Array.from({ length: 8 }, (_, i) => timed(Promise.resolve(appendOne(log, `s${i}`, { type: 'tick', data: i }))));
    const results = await within(Promise.all(calls), 3000, 'every call to settle');
    for (const r of results) expect(r.error).toBeInstanceOf(LogError);
    const refusedAtOnce = results.filter((r) => r.ms < 200);
    expect(refusedAtOnce).toHaveLength(4);
    for (const r of refusedAtOnce) expect(r.error).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/maxPendingCalls/) });
    // The four that went out waited for their deadline, not for Redis.
    expect(performance.now() - started).toBeLessThan(2500);
  });

  it('bounds the publishes waiting for the store: past maxPendingPublishes one more is refused at once', { timeout: 20_000 }, async () => {
    const server = await redis();
    const node = await startGateway({ ...redisFleet(server.port), maxPendingPublishes: 3 });
    const { helloOk } = await join(node, { protocol_max: 1 });
    const sessionId = String(helloOk['session_id']);
    server.pause();
    cleanups.push(async () => server.resume());
    // One on its way to Redis, two queued behind it in the session: the bound. Two more are refused.
    const results = await within(Promise.all(Array.from({ length: 5 }, (_, i) => timed(node.publish(sessionId, { type: 'tick', data: i })))), 5000, 'every publish to settle');
    const atOnce = results.filter((r) => r.ms < 200);
    expect(atOnce).toHaveLength(2);
    for (const r of atOnce) expect(r.error).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/maxPendingPublishes/) });
    for (const r of results) expect(r.error).toMatchObject({ code: 'unavailable' });
  });

  it('publishes refused while Redis is unreachable hold nothing: a burst fails at once', { timeout: 20_000 }, async () => {
    const server = await redis();
    const proxy = await link(server);
    const node = await startGateway({ ...redisFleet(proxy.port) });
    const { helloOk } = await join(node, { protocol_max: 1 });
    const sessionId = String(helloOk['session_id']);
    proxy.stall();
    await waitForAsync(async () => (await health(node.port)).http === 503, 3000, 'the node to notice');
    const burst = await timed(Promise.allSettled(Array.from({ length: 2000 }, () => node.publish(sessionId, { type: 'tick', data: 'x'.repeat(1000) }))));
    expect(burst.ms).toBeLessThan(1000);
  });
});
