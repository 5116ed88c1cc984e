// Session caps counted in Redis hold across the fleet: gateways sharing one Redis log admit the
// caps once between them, not once each. Ending a session frees its slot everywhere; a node that
// only forgets a session locally does not; an entry nobody refreshes stops counting after the TTL.
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryLog, type Gateway, type GatewayOptions } from '../../src/server/index.js';
import { createRedisFleetInternals } from '../../src/server/redis/redis-fleet.js';
import { createRedisSessionCaps, SESSION_CAP_SCRIPTS } from '../../src/server/redis/session-caps.js';
import { connect, helloFrame, join, startGateway } from '../support/gateway-kit.js';
import { countCommands } from '../support/redis-commands.js';
import { startRedis, startRedisCluster, type RedisServer } from '../support/redis-server.js';
import { waitFor, waitForAsync } from '../support/wait-for.js';

const SECRET = 'test-secret-0123456789';
const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

async function redis(): Promise<RedisServer> {
  const server = await startRedis();
  stops.push(() => server.stop());
  return server;
}

/** Two gateways on one Redis log, with the same options and log TTL. */
async function twoNodes(options: GatewayOptions, logTtlMs = 3_600_000): Promise<{ server: RedisServer; a: Gateway; b: Gateway }> {
  const server = await redis();
  const node = () => startGateway({ ...createRedisFleetInternals({ url: server.url, secret: SECRET, sessionTtlMs: logTtlMs }), ...options });
  return { server, a: await node(), b: await node() };
}

/** A hello that creates a session: its hello_ok, or the refusal (checked to be a session_limit close 4030). */
async function tryCreate(gateway: Gateway, fields: Record<string, unknown> = {}): Promise<{ sessionId: string } | { refused: string }> {
  const client = await connect(gateway);
  client.send(helloFrame(fields));
  const reply = await client.next();
  if (reply['type'] === 'hello_ok') return { sessionId: String(reply['session_id']) };
  expect(reply).toMatchObject({ code: 'session_limit', next_step: 'wait_then_retry', retry_after_seconds: 60 });
  expect(await client.closed()).toMatchObject({ code: 4030, reason: 'session_limit' });
  return { refused: String(reply['message']) };
}

async function expectRefused(gateway: Gateway, fields: Record<string, unknown> = {}): Promise<string> {
  const outcome = await tryCreate(gateway, fields);
  if (!('refused' in outcome)) throw new Error(`expected a session_limit refusal, got session ${outcome.sessionId}`);
  return outcome.refused;
}

/** Retry creating a session every 100 ms until one is admitted; resolves with the ms it took. */
async function eventuallyCreate(gateway: Gateway, timeoutMs: number, label: string): Promise<number> {
  const started = performance.now();
  await waitForAsync(async () => 'sessionId' in (await tryCreate(gateway)), timeoutMs, label, 100);
  return performance.now() - started;
}

describe('session caps counted in Redis', () => {
  it('caps sessions in total across nodes, and ending one on a node frees a slot on another', async () => {
    const { a, b } = await twoNodes({ maxSessions: 2 });
    const first = await join(a, { protocol_max: 1 });
    await join(b, { protocol_max: 1 });
    expect(await expectRefused(a)).toMatch(/maximum of 2 sessions/);
    expect(await expectRefused(b)).toMatch(/maximum of 2 sessions/);
    expect(a.stats().counters.sessionLimited + b.stats().counters.sessionLimited).toBe(2);
    // Resuming a counted session is never refused, on either node.
    const resumed = await join(b, { protocol_max: 1, session_id: first.helloOk['session_id'] });
    expect(resumed.helloOk['resumed']).toBe(true);

    expect(await a.expireSession(String(first.helloOk['session_id']))).toBe(true);
    await join(b, { protocol_max: 1 });
    await expectRefused(a);
  });

  it('caps sessions per owner across nodes', async () => {
    const { a, b } = await twoNodes({ verifyToken: () => true, maxSessionsPerOwner: 2 });
    await join(a, { token: 'alice' });
    await join(b, { token: 'alice' });
    expect(await expectRefused(a, { token: 'alice' })).toMatch(/credentials already hold 2 sessions/);
    expect(await expectRefused(b, { token: 'alice' })).toMatch(/credentials already hold 2 sessions/);
    await join(a, { token: 'bob' });
  });

  it('caps sessions per address across nodes', async () => {
    const { a, b } = await twoNodes({ maxSessionsPerAddress: 1 });
    await join(a);
    expect(await expectRefused(b)).toMatch(/address already holds 1 sessions/);
  });

  it('keeps counting a session a node only forgets locally, and stops once nobody refreshes it for the TTL', async () => {
    // Gateway sessionTtlMs 50: node A forgets its idle entry at once and sweeps every 50 ms.
    const { a, b } = await twoNodes({ maxSessions: 2, sessionTtlMs: 50 }, 2500);
    const idle = await join(a);
    const held = await join(b);
    idle.client.ws.close();
    await waitFor(() => a.sessions().length === 0, 3000, 'node A to forget its idle session locally');
    // Still live in the store (another node could hold it): still counted.
    expect(await expectRefused(b)).toMatch(/maximum of 2 sessions/);
    // Nobody refreshes it now: it stops counting after the log's TTL, while B keeps its held one.
    const waited = await eventuallyCreate(b, 10_000, 'the unrefreshed session to stop counting');
    expect(waited).toBeGreaterThan(500);
    expect(held.client.ws.readyState).toBe(held.client.ws.OPEN);
    await expectRefused(a);
  });

  it('stops counting the sessions of a node that died, after the TTL', async () => {
    const { a, b } = await twoNodes({ maxSessions: 1, sessionTtlMs: 50 }, 1500);
    await join(a);
    await a.terminate(); // no release, no more refreshes, like a SIGKILL
    await expectRefused(b);
    await eventuallyCreate(b, 10_000, "the dead node's session to stop counting");
  });

  it('keeps a held session counted past the TTL: each sweep refreshes it', async () => {
    const { server, a, b } = await twoNodes({ maxSessions: 1, sessionTtlMs: 50 }, 400);
    const held = await join(a);
    // Its expiry (the score, on Redis's clock) moves on with every sweep, for three lifetimes.
    const expiry = async (): Promise<number> => Number(await server.cli('zscore', 'lifeline:{caps}:all', String(held.helloOk['session_id'])));
    const started = performance.now();
    let last = await expiry();
    let refreshes = 0;
    await waitForAsync(async () => {
      const now = await expiry();
      if (now > last) refreshes++;
      last = now;
      return refreshes >= 3 && performance.now() - started > 1200;
    }, 10_000, 'three refreshes over three lifetimes');
    await expectRefused(b);
  });

  it('counts a session again once it is resumed after a whole TTL kept alive only by publishes', async () => {
    // Log TTL 600 ms: with no connection, the session's cap entry lapses while publishes keep its keys.
    const { server, a, b } = await twoNodes({ verifyToken: () => true, maxSessionsPerOwner: 2, sessionTtlMs: 50 }, 600);
    const first = await join(a, { token: 'alice' });
    const sessionId = String(first.helloOk['session_id']);
    first.client.ws.close();
    const redisNow = async (): Promise<number> => {
      const [seconds, micros] = (await server.cli('time')).split('\n').map(Number);
      return (seconds ?? 0) * 1000 + Math.floor((micros ?? 0) / 1000);
    };
    const counted = async (): Promise<boolean> => {
      const score = await server.cli('zscore', 'lifeline:{caps}:all', sessionId);
      return score !== '' && Number(score) > (await redisNow());
    };
    await waitForAsync(async () => {
      await a.publish(sessionId, { type: 'tick' });
      return !(await counted());
    }, 10_000, 'the cap entry to lapse while publishes keep the session', 100);
    expect(await server.cli('exists', `lifeline:{${sessionId}}:meta`)).toBe('1');

    // Resumed on the other node: never refused, and counted again by the next sweep, to its owner:
    // with one more session of alice's she holds her 2.
    const resumed = await join(b, { token: 'alice', session_id: sessionId });
    expect(resumed.helloOk['resumed']).toBe(true);
    await waitForAsync(counted, 5000, 'the resumed session to be counted again');
    await join(a, { token: 'alice' });
    expect(await expectRefused(b, { token: 'alice' })).toMatch(/credentials already hold 2 sessions/);
  });

  it('claims, releases and refreshes a whole batch in one round trip each', async () => {
    const server = await redis();
    const { log, fleet } = createRedisFleetInternals({ url: server.url, secret: SECRET });
    await log.open();
    stops.push(() => log.close());
    const caps = fleet.sessionCaps({ total: 100, perOwner: 100, perAddress: 100 });
    await caps.claim({ sessionId: 'warm', owner: 'o', address: '127.0.0.1' }); // loads the scripts
    await caps.refresh([{ sessionId: 'warm', owner: 'o' }]);
    await caps.release('warm');

    const claimed = await countCommands(server, async () => {
      expect(await caps.claim({ sessionId: 's0', owner: 'o', address: '127.0.0.1' })).toEqual({ ok: true });
    });
    expect(claimed.sent).toEqual({ evalsha: 1 });
    const ids = Array.from({ length: 50 }, (_, i) => `s${i}`);
    for (const id of ids.slice(1)) await caps.claim({ sessionId: id, owner: undefined, address: undefined });
    expect(caps.counted).toBe(50);
    const refreshed = await countCommands(server, () => caps.refresh(ids.map((sessionId) => ({ sessionId, owner: undefined }))));
    expect(refreshed.sent).toEqual({ evalsha: 1 });
    // Every cap key is in one slot and bounded by a TTL.
    const keys = (await server.cli('keys', 'lifeline:{caps}:*')).split('\n').sort();
    expect(keys).toEqual(['lifeline:{caps}:address:127.0.0.1', 'lifeline:{caps}:all', 'lifeline:{caps}:charges', 'lifeline:{caps}:owner:o']);
    for (const key of keys) expect(Number(await server.cli('pttl', key))).toBeGreaterThan(0);
    const released = await countCommands(server, () => caps.release('s0'));
    expect(released.sent).toEqual({ evalsha: 1 });
    expect(caps.counted).toBe(49);
  });

  it('claiming a counted id again is a no-op; an emptied per-owner set goes', async () => {
    const server = await redis();
    const { log, fleet, client } = createRedisFleetInternals({ url: server.url, secret: SECRET, sessionTtlMs: 60_000 });
    await log.open();
    stops.push(() => log.close());
    const caps = fleet.sessionCaps({ total: 10, perOwner: 1, perAddress: 10 });
    expect(await caps.claim({ sessionId: 'x', owner: 'o', address: undefined })).toEqual({ ok: true });
    expect(await caps.claim({ sessionId: 'x', owner: 'o', address: undefined })).toEqual({ ok: true });
    expect(await caps.claim({ sessionId: 'y', owner: 'o', address: undefined })).toEqual({ ok: false, cap: 'perOwner', limit: 1 });
    expect(caps.counted).toBe(1);
    await caps.release('x');
    await caps.release('unknown');
    expect(await server.cli('exists', 'lifeline:{caps}:owner:o', 'lifeline:{caps}:charges')).toBe('0');
    expect(await caps.claim({ sessionId: 'y', owner: 'o', address: undefined })).toEqual({ ok: true });

    // sessionTtlMs 0: counted until released, like the keys.
    const forever = createRedisSessionCaps(client, { total: 1, perOwner: 1, perAddress: 1 }, { keyPrefix: 'forever:', sessionTtlMs: 0 });
    expect(await forever.claim({ sessionId: 'z', owner: 'o', address: 'a' })).toEqual({ ok: true });
    expect(await forever.claim({ sessionId: 'w', owner: undefined, address: undefined })).toEqual({ ok: false, cap: 'total', limit: 1 });
    expect(await server.cli('pttl', 'forever:{caps}:all')).toBe('-1');
    await forever.release('z');
    expect(forever.counted).toBe(0);
  });

  it('refuses a new session with unavailable (4503) when Redis cannot count it', async () => {
    const server = await redis();
    const client = createClient({ url: server.url, scripts: SESSION_CAP_SCRIPTS, disableOfflineQueue: true, socket: { reconnectStrategy: () => 50 } });
    client.on('error', () => undefined);
    await client.connect();
    stops.push(async () => client.destroy());
    const gateway = await startGateway({ log: createMemoryLog(), sessionCaps: createRedisSessionCaps(client, { total: 10, perOwner: 10, perAddress: 10 }) });
    await join(gateway);
    await server.kill();
    const refused = await connect(gateway);
    refused.send(helloFrame());
    expect(await refused.next('hello_error')).toMatchObject({ code: 'unavailable', next_step: 'wait_then_retry', retry_after_seconds: 1 });
    expect(await refused.closed()).toMatchObject({ code: 4503 });
  });

  it('works on Redis Cluster: every cap key in one slot', async () => {
    const cluster = await startRedisCluster(3);
    stops.push(() => cluster.stop());
    const { log, fleet } = createRedisFleetInternals({ url: cluster.urls, secret: SECRET });
    await log.open();
    stops.push(() => log.close());
    const caps = fleet.sessionCaps({ total: 10, perOwner: 1, perAddress: 10 });
    expect(await caps.claim({ sessionId: 'a', owner: 'o', address: '10.0.0.1' })).toEqual({ ok: true });
    expect(await caps.claim({ sessionId: 'b', owner: 'o', address: '10.0.0.2' })).toEqual({ ok: false, cap: 'perOwner', limit: 1 });
    // A held id is counted whatever the caps say: 'b' is counted again, charged to its owner.
    await caps.refresh([{ sessionId: 'a', owner: 'o' }, { sessionId: 'b', owner: 'o' }]);
    expect(caps.counted).toBe(2);
    await caps.release('a');
    expect(await caps.claim({ sessionId: 'b', owner: 'o', address: '10.0.0.2' })).toEqual({ ok: true });
    expect(caps.counted).toBe(1);
  });
});
