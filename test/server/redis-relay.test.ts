// The fleet's relay of HTTP-binding frames on a real Redis: frames forwarded to the node that
// holds a connection arrive there in order and the forwarder gets that node's verdict; a node that
// nobody serves is unknown at once, one that does not answer is `no_answer` after the deadline,
// and the forwards waiting at once are bounded.
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryOutcome, RelayedFrames } from '../../src/server/fleet.js';
import { relayChannel } from '../../src/server/redis/connection-relay.js';
import type { RedisFleetOptions } from '../../src/server/redis/options.js';
import { createRedisFleet } from '../../src/server/redis/redis-fleet.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

const SECRET = 'test-secret-0123456789';
const stops: (() => Promise<void>)[] = [];
// One Redis for the file; each test uses node ids of its own.
let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(() => server.stop());
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** A node's fleet, serving its relay with `deliver`. */
async function node(id: string, deliver: (frames: RelayedFrames) => DeliveryOutcome, options: Partial<RedisFleetOptions> = {}) {
  const { log, fleet } = createRedisFleet({ url: server.url, secret: SECRET, ...options });
  await log.open();
  stops.push(() => log.close());
  const stop = await fleet.relay.serve(id, deliver);
  stops.push(stop);
  return fleet;
}

const frames = (lines: string[], connection = 'a.conn'): RelayedFrames => ({ connection, lines, tokenDigest: undefined });

describe('the connection relay on Redis', () => {
  it('hands forwarded frames to the holder in the order they were forwarded, and answers with its verdict', async () => {
    const received: string[] = [];
    const verdicts: DeliveryOutcome[] = [];
    await node('a', (relayed) => {
      received.push(...relayed.lines);
      return verdicts.shift() ?? 'delivered';
    });
    const b = await node('b', () => 'unknown_connection');
    const sent = Array.from({ length: 20 }, (_, i) => [`{"n":${2 * i}}`, `{"n":${2 * i + 1}}`]);
    const outcomes = await Promise.all(sent.map((lines) => b.relay.forward('a', frames(lines))));
    expect(outcomes.every((o) => o === 'delivered')).toBe(true);
    expect(received).toEqual(sent.flat());
    verdicts.push('busy', 'forbidden', 'unknown_connection');
    expect(await b.relay.forward('a', frames(['{}']))).toBe('busy');
    expect(await b.relay.forward('a', frames(['{}']))).toBe('forbidden');
    expect(await b.relay.forward('a', frames(['{}']))).toBe('unknown_connection');
  });

  it('a node nobody serves is unknown at once, without waiting out the deadline', async () => {
    const b = await node('b1', () => 'delivered', { commandTimeoutMs: 5000 });
    const started = performance.now();
    expect(await b.relay.forward('gone', frames(['{}'], 'gone.conn'))).toBe('unknown_connection');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('two processes under one node id: the one that holds the connection answers', async () => {
    await node('twin', () => 'unknown_connection');
    await node('twin', () => 'delivered');
    const b = await node('b2', () => 'unknown_connection');
    expect(await b.relay.forward('twin', frames(['{}'], 'twin.conn'))).toBe('delivered');
  });

  it('a holder that does not answer is no_answer after commandTimeoutMs, and past maxPendingForwards a forward is overloaded at once', async () => {
    // A subscriber that hears forwards to `mute` and never answers (a node hung after subscribing).
    const mute = createClient({ url: server.url });
    await mute.connect();
    stops.push(() => mute.close());
    const heard: string[] = [];
    await mute.sSubscribe(relayChannel('lifeline:', 'mute'), (message) => void heard.push(message));
    const b = await node('b3', () => 'unknown_connection', { commandTimeoutMs: 300, maxPendingForwards: 1 });
    const started = performance.now();
    const first = b.relay.forward('mute', { connection: 'mute.conn', lines: ['{"type":"ping"}'], tokenDigest: 'digest-of-the-token' });
    expect(await b.relay.forward('mute', frames(['{}'], 'mute.conn'))).toBe('overloaded');
    expect(await first).toBe('no_answer');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    // Once it settled, the next forward is sent again.
    expect(await b.relay.forward('mute', frames(['{}'], 'mute.conn'))).toBe('no_answer');
    expect(heard).toHaveLength(2);
    expect(JSON.parse(heard[0]!)).toMatchObject({ from: 'b3', c: 'mute.conn', d: 'digest-of-the-token', l: ['{"type":"ping"}'] });
  });
});
