// The fan-out holds nothing for a session once no local connection follows it: the last one
// leaving, or a join that subscribed but never joined (its socket closed while the store was
// slow), unsubscribes the feed and drops what it kept. Events parked ahead of a hole the log
// cannot fill stay within the replay window. A live event from a new epoch restarts the feed
// while it stays connected, and a join closes the subscribe-then-replay race, step by step.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createFanout } from '../../src/server/fanout.js';
import { type EventLog, type LiveEvent, type LiveFeed, type StoredEvent } from '../../src/server/index.js';
import { createRedisFleetInternals, type RedisFleet, type RedisFleetInternals } from '../../src/server/redis/redis-fleet.js';
import { createLiveTail } from '../../src/server/live-tail.js';
import { createSessionRegistry } from '../../src/server/session-registry.js';
import { appendOne } from '../support/append-one.js';
import { arrivalKinds, connect, helloFrame, join, publishMany, seqs, startGateway } from '../support/gateway-kit.js';
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
async function subscribers(server: RedisServer, redisFleet: RedisFleetInternals, sessionId: string): Promise<number> {
  const reply = (await server.cli('pubsub', 'shardnumsub', redisFleet.keys(sessionId).channel)).split('\n');
  return Number(reply[1]);
}

describe('fan-out holdings', () => {
  it('parks at most a replay window ahead of a hole, and drops the feed once the last connection leaves', async () => {
    const server = await redis();
    const redisFleet = createRedisFleetInternals({ url: server.url, secret: SECRET, replayWindow: 50 });
    const { log, fleet } = redisFleet;
    await log.open();
    stops.push(() => log.close());
    const registry = createSessionRegistry();
    const fanout = createFanout({ log, feed: fleet.feed, logger: pino({ level: 'silent' }), find: (id) => registry.find(id), ended: () => undefined });
    stops.push(() => fanout.close());

    const session = registry.entry('s');
    session.record = await log.createSession('s', 'demo', undefined);
    const position = await fanout.align(session, async () => log.position('s'));
    const delivered: StoredEvent[] = [];
    const subscriber = { expire: () => undefined, restart: () => undefined };
    session.subscribers.add(subscriber);
    // A connection as the fan-out sees it: it follows the session's live tail, one event at a time.
    const following = (session.live = createLiveTail()).follow({ batches: false, maxBatchFrames: 1, sendEvent: (event) => void delivered.push(event), sendRun: () => undefined });
    await appendOne(log, 's', { type: 'tick' });
    await waitFor(() => delivered.length === 1, 5000, 'the first event');

    // 200 events ahead of a hole no repair can fill (the log never had seqs 2..9), in one script.
    const ahead = Array.from({ length: 200 }, (_, i) => `${i + 10}:${position.epoch}:{"type":"ahead"}`);
    const channel = redisFleet.keys('s').channel;
    await server.cli('eval', "for _, m in ipairs(ARGV) do redis.call('SPUBLISH', KEYS[1], m) end", '1', channel, ...ahead);
    // A real publish after them: once it arrives (in order on the one feed), so have they.
    await appendOne(log, 's', { type: 'tick' });
    await waitFor(() => delivered.length === 2, 5000, 'the second event');
    expect(delivered.map((e) => e.seq)).toEqual([1, 2]);
    expect(fanout.stats()).toMatchObject({ feeds: 1, early: 0 });
    expect(fanout.stats().parked).toBeGreaterThan(0);
    expect(fanout.stats().parked).toBeLessThanOrEqual(50);

    session.subscribers.delete(subscriber);
    following.unfollow();
    fanout.release(session);
    await waitForAsync(async () => (await subscribers(server, redisFleet, 's')) === 0, 5000, 'the node to unsubscribe');
    expect(fanout.stats()).toEqual({ feeds: 0, parked: 0, early: 0 });
  });

  it('unsubscribes a feed subscribed by a join whose socket closed before it joined', async () => {
    const server = await redis();
    const redisFleet = createRedisFleetInternals({ url: server.url, secret: SECRET });
    let verified = 0;
    const verifyToken = (): boolean => {
      verified++;
      return true;
    };
    const gateway = await startGateway({ log: redisFleet.log, fleet: redisFleet.fleet, verifyToken });
    const first = await join(gateway, { token: 'alice' });
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(gateway, sessionId, 1);
    first.client.ws.close();
    await waitForAsync(async () => (await subscribers(server, redisFleet, sessionId)) === 0, 5000, 'the last connection to unsubscribe');

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
    await waitForAsync(async () => (await subscribers(server, redisFleet, sessionId)) === 0, 5000, 'the abandoned join to unsubscribe');
    expect(gateway.stats().feed).toEqual({ feeds: 0, parked: 0, early: 0 });
  });
});

describe('a new epoch on a connected feed', () => {
  it('restarts the feed and its connections, and delivers nothing of the new history as a continuation of the old', async () => {
    const server = await redis();
    const redisFleet = createRedisFleetInternals({ url: server.url, secret: SECRET });
    const gateway = await startGateway({ log: redisFleet.log, fleet: redisFleet.fleet });
    const { client, helloOk } = await join(gateway, { protocol_max: 1 });
    const sessionId = String(helloOk['session_id']);
    await publishMany(gateway, sessionId, 5);
    await client.until((frames) => seqs(frames).includes(5), 5000, 'events 1..5 live');
    // What the scripts find after a Redis restart that may have lost writes (another run_id, not
    // durable), but with every connection of this node, its feed included, still up.
    await server.cli('hset', redisFleet.keys(sessionId).meta, 'rid', 'another-redis-process');
    // The new history numbers from 1 again: 7 events reach past the 5 this client holds.
    await publishMany(gateway, sessionId, 7);
    expect(await client.closed(5000)).toMatchObject({ code: 1001 });
    expect(seqs(client.frames)).toEqual([1, 2, 3, 4, 5]);

    // The feed re-anchored in the new epoch: a resume from the old one gets the gap, then live events.
    const again = await join(gateway, { protocol_max: 1, session_id: sessionId, since: 5, epoch: helloOk['epoch'] });
    expect(again.helloOk['epoch']).not.toBe(helloOk['epoch']);
    expect(again.helloOk).toMatchObject({ resync_required: true, gap: { expected: 6, received: 1 }, cursor: 7 });
    await publishMany(gateway, sessionId, 1);
    await again.client.until((frames) => seqs(frames, 'event').includes(8), 5000, 'event 8 live');
    expect(seqs(again.client.frames)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

/**
 * A Redis log with a step put before two of its calls, to stage the join's race on purpose:
 * `beforeSubscribe` runs as the fan-out subscribes (before the subscription is active),
 * `beforeFirstRead` before the first `readAfter`; each runs once. Live events wait while `hold`
 * is true and arrive, in order, at `release()`.
 */
function staged({ log, fleet }: RedisFleet, steps: { readonly beforeSubscribe: () => unknown; readonly beforeFirstRead: () => unknown }) {
  let beforeSubscribe: (() => unknown) | undefined = steps.beforeSubscribe;
  let beforeFirstRead: (() => unknown) | undefined = steps.beforeFirstRead;
  let hold = false;
  const held: (() => void)[] = [];
  const feed: LiveFeed = {
    ...fleet.feed,
    async subscribe(sessionId: string, onEvent: (event: LiveEvent) => void, onEnded: (reason: string) => void) {
      const step = beforeSubscribe;
      beforeSubscribe = undefined;
      await step?.();
      return fleet.feed.subscribe(sessionId, (event) => (hold ? held.push(() => onEvent(event)) : onEvent(event)), onEnded);
    },
  };
  const wrapped: EventLog = {
    ...log,
    async readAfter(sessionId: string, cursor: number, limit?: number) {
      const step = beforeFirstRead;
      beforeFirstRead = undefined;
      if (step) {
        hold = true;
        await step();
      }
      return log.readAfter(sessionId, cursor, limit);
    },
  };
  return {
    log: wrapped,
    fleet: { ...fleet, feed },
    release() {
      hold = false;
      for (const deliver of held.splice(0)) deliver();
    },
  };
}

/** A Redis, and another node's log on it that created session `s` (no events yet). */
async function sessionOnAnotherNode(): Promise<{ server: RedisServer; other: EventLog }> {
  const server = await redis();
  const { log: other } = createRedisFleetInternals({ url: server.url, secret: SECRET });
  await other.open();
  stops.push(() => other.close());
  await other.createSession('s', 'demo', undefined);
  return { server, other };
}

describe('the subscribe-then-replay race, staged step by step', () => {
  it('an event appended while the feed subscribes is replayed, one appended while the replay is read comes live: each once', async () => {
    // The session lives in Redis with events 1..3; no node follows it yet.
    const { server, other } = await sessionOnAnotherNode();
    for (let n = 1; n <= 3; n++) await appendOne(other, 's', { type: 'tick', data: { n } });
    // Another node publishes 4 before this node's subscription is active, and 5 once the join
    // has its position but before it reads its replay (5 comes by the feed only after the join).
    const stage = staged(createRedisFleetInternals({ url: server.url, secret: SECRET }), {
      beforeSubscribe: () => appendOne(other, 's', { type: 'tick', data: { n: 4 } }),
      beforeFirstRead: () => appendOne(other, 's', { type: 'tick', data: { n: 5 } }),
    });
    const gateway = await startGateway({ log: stage.log, fleet: stage.fleet });
    const { client, helloOk, caughtUp } = await join(gateway, { protocol_max: 1, session_id: 's', since: 0 });
    // 4 is in the replay (the position was read after subscribing); 5 is not (the replay ends where the feed stands).
    expect(helloOk).toMatchObject({ resumed: true, cursor: 4 });
    expect(caughtUp).toMatchObject({ cursor: 4 });
    expect(seqs(client.frames, 'replay')).toEqual([1, 2, 3, 4]);
    stage.release();
    await client.until((frames) => seqs(frames).includes(5), 5000, 'event 5 live');
    await client.sync();
    expect(seqs(client.frames)).toEqual([1, 2, 3, 4, 5]);
    expect(arrivalKinds(client.frames)).toEqual(['replay', 'replay', 'replay', 'replay', 'caught_up', 'event']);
  });

  it('a position read just before the feed delivers an empty session\'s first event: the join replays it, with no gap', async () => {
    const { server, other } = await sessionOnAnotherNode();
    const { log, fleet } = createRedisFleetInternals({ url: server.url, secret: SECRET });
    // Armed for the second join: its position is read while the session is empty, and event 1
    // is published elsewhere and delivered by this node's feed (to the first connection) before
    // the join goes on with that position, as happens when the store's reply and the feed's
    // message are taken in the same turn.
    let first: Awaited<ReturnType<typeof join>> | undefined;
    let armed = false;
    const staleLog: EventLog = {
      ...log,
      async position(sessionId: string) {
        const position = await log.position(sessionId);
        if (armed && first) {
          armed = false;
          await appendOne(other, 's', { type: 'tick', data: { n: 1 } });
          await first.client.until((frames) => seqs(frames).includes(1), 5000, 'event 1 through the feed');
        }
        return position;
      },
    };
    const gateway = await startGateway({ log: staleLog, fleet });
    first = await join(gateway, { session_id: 's', since: 0 });
    armed = true;
    const second = await join(gateway, { session_id: 's', since: 0 });
    expect(second.helloOk['gap']).toBeUndefined();
    expect(second.helloOk).toMatchObject({ resumed: true, cursor: 1, oldest_cursor: 1 });
    await second.client.sync();
    expect(seqs(second.client.frames)).toEqual([1]);
  });
});
