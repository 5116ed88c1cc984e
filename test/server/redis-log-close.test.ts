// Closing a Redis log leaves nothing running: no connection of its own keeps retrying a Redis that
// went away, so a gateway that closed lets its process exit (a node-redis client reconnects
// forever until it is destroyed).
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LogError } from '../../src/server/event-log.js';
import { createRedisFleet } from '../../src/server/index.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { waitFor, within } from '../support/wait-for.js';

const SECRET = 'test-secret-0123456789';
const stops: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

/** A stand-in on a dead Redis's port that counts connection attempts and resets each one. */
async function attemptCounter(port: number): Promise<{ readonly count: () => number }> {
  let count = 0;
  const server: Server = createServer((socket) => {
    count++;
    socket.resetAndDestroy();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { count: () => count };
}

async function redis(): Promise<RedisServer> {
  const server = await startRedis();
  stops.push(() => server.stop());
  return server;
}

describe('closing a Redis log', () => {
  it('ends the feed connection while its first connect still retries a Redis that is gone', async () => {
    const server = await redis();
    const { log, fleet } = createRedisFleet({ url: server.url, secret: SECRET });
    await log.open();
    await log.createSession('s1', 'demo');
    await server.kill();
    const attempts = await attemptCounter(server.port);
    // The first subscribe opens the feed connection, which cannot connect now and retries.
    const subscribing = fleet.feed.subscribe('s1', () => undefined, () => undefined).then(
      () => 'subscribed',
      (error: unknown) => (error instanceof LogError ? error.code : String(error)),
    );
    await waitFor(() => attempts.count() >= 3, 5000, 'the log retrying Redis');

    await within(log.close(), 3000, 'close() with the feed connection still connecting');
    // Its connect loop ended (the subscribe it served is refused, not left hanging) ...
    expect(await within(subscribing, 5000, 'the subscribe to settle')).toBe('unavailable');
    // ... and nothing of the log's tries Redis again (its retries were 50-400 ms apart by now).
    const after = attempts.count();
    await expect(waitFor(() => attempts.count() > after, 1000, 'another attempt')).rejects.toThrow(/Timed out/);
  });
});
