// The Redis log keeps its own time on the clock it is given, like the gateway: its durability
// check runs there, and so do its PING, the deadline of each call and the grace `close()` gives
// a Redis that stopped answering.
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_CLOSE_GRACE_MS } from '../../src/server/redis/connection.js';
import { createRedisFleetInternals } from '../../src/server/redis/redis-fleet.js';
import { createManualClock } from '../support/manual-clock.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'test-secret-0123456789';
const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

async function durableRedis(): Promise<RedisServer> {
  const server = await startRedis({ appendfsync: 'always' });
  stops.push(() => server.stop());
  return server;
}

describe('the Redis log on an injected clock', () => {
  it('re-reads the fsync policy when its clock says so, and only then', async () => {
    const server = await durableRedis();
    const clock = createManualClock();
    const { log, fleet } = createRedisFleetInternals({ url: server.url, secret: SECRET, durabilityCheckMs: 500, clock });
    await log.open();
    stops.push(() => log.close());
    const { durability } = fleet;
    expect(durability.durableWrites()).toBe(true);
    // The durability check and the link's PING, both on the injected clock.
    expect(clock.pending).toBe(2);

    await server.cli('config', 'set', 'appendfsync', 'everysec');
    // A real second goes by on no clock of the log's: nothing re-reads the policy.
    await expect(waitFor(() => !durability.durableWrites(), 1000, 'no check')).rejects.toThrow(/Timed out/);
    clock.advance(499);
    expect(durability.durableWrites()).toBe(true);
    clock.advance(1);
    await waitFor(() => !durability.durableWrites(), 5000, 'the check on the injected clock to see everysec');
  });

  it('destroys the connection of a Redis that stopped answering once the close grace passes on its clock', async () => {
    const server = await durableRedis();
    const clock = createManualClock();
    const { log, client } = createRedisFleetInternals({ url: server.url, secret: SECRET, clock });
    await log.open();
    server.pause(); // SIGSTOP: the connection stays up, nothing answers
    stops.unshift(async () => server.resume());
    // A graceful close waits for the replies still due; this one never comes.
    let unanswered: string | undefined;
    // Issued at once (the async body runs up to its first await), so it is due before the close.
    void (async () => log.getSession('s'))().then(() => (unanswered = 'answered'), (error: unknown) => (unanswered = error instanceof Error ? error.message : String(error)));
    let closed = false;
    const closing = log.close().then(() => void (closed = true));
    // The call's deadline (2 s) and the close grace are armed now (the durability check and the
    // PING stopped with the close); the grace is due first.
    await waitFor(() => clock.pending === 2, 5000, 'the close grace on the injected clock');
    clock.advance(REDIS_CLOSE_GRACE_MS - 1);
    await expect(waitFor(() => closed, 200, 'no close yet')).rejects.toThrow(/Timed out/);
    clock.advance(1);
    await closing;
    expect(client.isOpen).toBe(false);
    // The connection is gone, not left draining: the call still due is rejected, not left hanging.
    expect(await waitFor(() => unanswered, 5000, 'the unanswered call to be rejected')).toMatch(/unreachable/);
  });
});
