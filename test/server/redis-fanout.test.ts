// The fan-out holds nothing for a session once no local connection follows it: the last one
// leaving, or a join that subscribed but never joined (its socket closed while the store was
// slow), unsubscribes the feed and drops what it kept. Events parked ahead of a hole the log
// cannot fill stay within the replay window.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createFanout } from '../../src/server/fanout.js';
import { createRedisLog, type RedisLog, type StoredEvent } from '../../src/server/index.js';
import { createSessionRegistry } from '../../src/server/session-registry.js';
import { connect, helloFrame, join, publishMany, startGateway } from '../support/gateway-kit.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
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

/** Nodes subscribed to a session's channel, as Redis counts them. */
async function subscribers(server: RedisServer, log: RedisLog, sessionId: string): Promise<number> {
  const reply = (await server.cli('pubsub', 'shardnumsub', log.keys(sessionId).channel)).split('\n');
  return Number(reply[1]);
}

describe('fan-out holdings', () => {
  it('parks at most a replay window ahead of a hole, and drops the feed once the last connection leaves', async () => {
    const server = await redis();
    const log = createRedisLog({ url: server.url, secret: SECRET, replayWindow: 50 });
    await log.open();
    stops.push(() => log.close());
    const registry = createSessionRegistry();
    const fanout = createFanout({ log, logger: pino({ level: 'silent' }), find: (id) => registry.find(id) });
    stops.push(() => fanout.close());

    const session = registry.entry('s');
    session.record = await log.createSession('s', 'demo', undefined);
    const position = await fanout.align(session, async () => log.position('s'));
    const delivered: StoredEvent[] = [];
    const subscriber = { deliver: (event: StoredEvent) => void delivered.push(event), expire: () => undefined, restart: () => undefined };
    session.subscribers.add(subscriber);
    await log.append('s', { type: 'tick' });
    await waitFor(() => delivered.length === 1, 5000, 'the first event');

    // 200 events ahead of a hole no repair can fill (the log never had seqs 2..9), in one script.
    const ahead = Array.from({ length: 200 }, (_, i) => `${i + 10}:${position.epoch}:{"type":"ahead"}`);
    const channel = log.keys('s').channel;
    await server.cli('eval', "for _, m in ipairs(ARGV) do redis.call('SPUBLISH', KEYS[1], m) end", '1', channel, ...ahead);
    // A real publish after them: once it arrives (in order on the one feed), so have they.
    await log.append('s', { type: 'tick' });
    await waitFor(() => delivered.length === 2, 5000, 'the second event');
    expect(delivered.map((e) => e.seq)).toEqual([1, 2]);
    expect(fanout.stats()).toMatchObject({ feeds: 1, early: 0 });
    expect(fanout.stats().parked).toBeGreaterThan(0);
    expect(fanout.stats().parked).toBeLessThanOrEqual(50);

    session.subscribers.delete(subscriber);
    fanout.release(session);
    await waitForAsync(async () => (await subscribers(server, log, 's')) === 0, 5000, 'the node to unsubscribe');
    expect(fanout.stats()).toEqual({ feeds: 0, parked: 0, early: 0 });
  });

  it('unsubscribes a feed subscribed by a join whose socket closed before it joined', async () => {
    const server = await redis();
    const log = createRedisLog({ url: server.url, secret: SECRET });
    let verified = 0;
    const verifyToken = (): boolean => {
      verified++;
      return true;
    };
    const gateway = await startGateway({ log, verifyToken });
    const first = await join(gateway, { token: 'alice' });
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(gateway, sessionId, 1);
    first.client.ws.close();
    await waitForAsync(async () => (await subscribers(server, log, sessionId)) === 0, 5000, 'the last connection to unsubscribe');

    // Redis stalls the resume past its first step; meanwhile its socket closes.
    const replays = gateway.stats().counters.replays;
    await server.cli('client', 'pause', '1000', 'ALL');
    const client = await connect(gateway);
    client.send(helloFrame({ token: 'alice', session_id: sessionId, since: 0 }));
    await waitFor(() => verified === 2, 5000, 'the resume to reach the join');
    client.ws.close();
    await client.closed();
    // The join goes on once Redis answers: it subscribes, reads its replay, then finds the socket gone.
    await waitFor(() => gateway.stats().counters.replays > replays, 10_000, 'the abandoned join to read its replay');
    await waitForAsync(async () => (await subscribers(server, log, sessionId)) === 0, 5000, 'the abandoned join to unsubscribe');
    expect(gateway.stats().feed).toEqual({ feeds: 0, parked: 0, early: 0 });
  });
});
