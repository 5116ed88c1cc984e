// Redis Cluster live feed: when the sharded pub/sub connection of the master holding a session
// drops, events published meanwhile reach the client as soon as node-redis has re-subscribed,
// without waiting for the session's next event, in order and once each. The feed is reported
// restored only once every channel it holds is subscribed again.
import { createClient, createCluster } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisFleet, createRedisFleetInternals, type RedisFleetInternals } from '../../src/server/redis/redis-fleet.js';
import { watchClusterFeed, type ClusterFeedSource } from '../../src/server/redis/cluster-feed.js';
import { appendOne } from '../support/append-one.js';
import { join, seqs, startGateway } from '../support/gateway-kit.js';
import { startRedisCluster, type RedisCluster, type RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'cluster-feed-secret-0123456789';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function cluster(): Promise<RedisCluster> {
  const started = await startRedisCluster(3);
  cleanups.push(() => started.stop());
  return started;
}

/** The app's own log and key layout on the cluster, opened. */
async function openLog(urls: readonly string[]): Promise<RedisFleetInternals> {
  const app = createRedisFleetInternals({ url: urls, secret: SECRET, replayWindow: 1000 });
  await app.log.open();
  cleanups.push(() => app.log.close());
  return app;
}

/** The master that holds a key (the others answer MOVED to a plain redis-cli). */
async function holderOf(nodes: readonly RedisServer[], key: string): Promise<RedisServer> {
  for (const node of nodes) if ((await node.cli('exists', key)) === '1') return node;
  throw new Error(`no master holds ${key}`);
}

/** A plain connection to one master, opened before it refuses new ones. */
async function control(node: RedisServer) {
  const conn = createClient({ url: node.url });
  await conn.connect();
  cleanups.push(async () => conn.destroy());
  return {
    killPubSub: () => conn.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']),
    /** Every other plain connection (this one is skipped). */
    killNormal: () => conn.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal']),
    getMaxClients: async () => (await conn.configGet('maxclients'))['maxclients'] ?? '10000',
    setMaxClients: (value: string) => conn.configSet('maxclients', value),
    subscribers: async (channel: string) => Number(((await conn.sendCommand(['PUBSUB', 'SHARDNUMSUB', channel])) as unknown[])[1]),
  };
}

describe('Redis Cluster feed recovery', () => {
  it('delivers events published while the shard pub/sub connection was down, without a further publish', async () => {
    const { nodes, urls } = await cluster();
    const gateway = await startGateway({ ...createRedisFleet({ url: urls, secret: SECRET, replayWindow: 1000 }), rateLimit: false });
    const app = await openLog(urls);
    const { client, helloOk } = await join(gateway);
    const sessionId = String(helloOk['session_id']);
    let published = 0;
    const publish = async (): Promise<void> => {
      published++;
      await appendOne(app.log, sessionId, { type: 'tick', data: { n: published } });
    };
    for (let i = 0; i < 3; i++) await publish();
    await client.until((frames) => seqs(frames).includes(3), 10_000, 'the first events live');

    const keys = app.keys(sessionId);
    const holder = await control(await holderOf(nodes, keys.meta));
    // Refuse new connections on that master (existing ones stay), kill the gateway's pub/sub
    // connection there, and publish while it cannot come back: those events go to nobody.
    const maxClients = await holder.getMaxClients();
    await holder.setMaxClients('1');
    await holder.killPubSub();
    for (let i = 0; i < 5; i++) await publish();
    expect(await holder.subscribers(keys.channel)).toBe(0);
    await holder.setMaxClients(maxClients);

    // No further publish: the re-subscription alone must bring the missed events.
    await client.until((frames) => seqs(frames).includes(published), 5000, `seq ${published} without a further publish`);
    await client.sync();
    expect(seqs(client.frames)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
  }, 60_000);

  it('reports the feed restored only after every held channel is subscribed again', async () => {
    const { nodes, urls } = await cluster();
    const client = createCluster({ rootNodes: urls.map((url) => ({ url })) });
    await client.connect();
    cleanups.push(async () => client.destroy());
    const channel = 'lifeline:{held}:fanout';
    await client.set('lifeline:{held}:meta', '1');
    const holder = await control(await holderOf(nodes, 'lifeline:{held}:meta'));
    // The feed holds a channel node-redis has no subscription for (as after a failover, whose new
    // master's pub/sub client is ready before its SSUBSCRIBE is answered), and Redis is slow to
    // answer the SSUBSCRIBE that confirms it.
    const slow: ClusterFeedSource = {
      on: (event, listener) => client.on(event, listener),
      off: (event, listener) => client.off(event, listener),
      sSubscribe: async (name, listener) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        await client.sSubscribe(name, listener);
      },
      sUnsubscribe: (name, listener) => client.sUnsubscribe(name, listener),
    };
    const atRestore: Promise<number>[] = [];
    const errors: unknown[] = [];
    const feed = watchClusterFeed(slow, () => atRestore.push(holder.subscribers(channel)), (error) => errors.push(error));
    cleanups.push(async () => feed.stop());
    feed.hold(channel, () => undefined);
    // Any node connection coming back ready ('node-ready') starts a confirmation round.
    await holder.killNormal();
    await waitFor(() => atRestore.length > 0, 10_000, 'the feed reported restored');
    expect(await atRestore[0]).toBe(1);
    expect(errors).toEqual([]);
  }, 60_000);
});
