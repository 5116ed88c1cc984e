// A client message is acknowledged only once some node really ran the handlers for it, even when
// the node that claimed it dies first. Real parts: two gateway node processes on a real Redis,
// Redis frozen with SIGSTOP while the claim is on its way, the claiming node SIGKILLed, and a real
// client that fails over through a TCP balancer and resends the same id (docs/scaling.md, "Client
// messages"). Short leases through the nodes' options keep it to a few seconds.
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';
import { cleanupFleet, killNode, startBalancer, startLanes, startNode } from './fleet-kit.js';

const servers: RedisServer[] = [];
afterEach(async () => {
  await cleanupFleet();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** Node options: a 1 s message lease, so a dead node's claim lapses quickly. */
const SHORT_LEASE = { MESSAGE_LEASE_MS: '1000' };

describe('client messages across a fleet', () => {
  it('a message whose node dies between claim and handler, Redis stalled, is applied once on another node and acked only then', async () => {
    const redis = await startRedis();
    servers.push(redis);
    const a = await startNode(redis.url, 'a', 200, 2000, 'async', SHORT_LEASE);
    const b = await startNode(redis.url, 'b', 200, 2000, 'async', SHORT_LEASE);
    const balancer = await startBalancer(a);
    const [lane] = await startLanes(balancer.url, 1);
    const client = lane!.client;
    // A first message loads the claim script into Redis's cache, as any running fleet has.
    await expect(client.send({ c: 0, k: 0 })).resolves.toMatchObject({ acknowledged: true, duplicate: false });

    redis.pause();
    const sent = client.send({ c: 0, k: 1 });
    await waitFor(() => a.claiming().length === 2, 5000, 'node a to send its claim to the stalled Redis');
    await killNode(a);
    balancer.setTarget({ host: '127.0.0.1', port: b.port });
    // Redis runs a's claim when it wakes up: a claim left by a node that is gone.
    redis.resume();

    await expect(sent).resolves.toMatchObject({ acknowledged: true, duplicate: false });
    expect([...a.applied(), ...b.applied()].filter((m) => m === '0:1')).toEqual(['0:1']);
  }, 30_000);
});
