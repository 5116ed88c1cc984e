// The fleet invariant with real processes: gateway nodes (child processes) on a real Redis,
// clients behind a TCP load balancer, an app publishing numbered events. Through node kills, a
// rolling restart, an outage past the window, Redis restarts and a replica promotion: nothing
// lost outside a signalled gap, no duplicates, no message applied twice or acknowledged but
// applied nowhere, and no (epoch, seq) naming two events. The node kill and the rolling restart run on one Redis and on a 3-master
// Redis Cluster alike.
import { afterEach, describe, expect, it } from 'vitest';
import { appendOne } from '../support/append-one.js';
import { replicaCaughtUp, startRedis, startRedisCluster, type RedisServer } from '../support/redis-server.js';
import { createFaultProxy } from '../support/fault-proxy.js';
import { startRoundRobinProxy } from '../support/round-robin-proxy.js';
import { waitFor } from '../support/wait-for.js';
import {
  audit,
  auditMessages,
  cleanupFleet,
  killNode,
  onCleanup,
  sendMessages,
  settle,
  startBalancer,
  startLanes,
  startNode,
  startPublisher,
  stopNode,
  type Lane,
  type Publisher,
} from './fleet-kit.js';

const servers: RedisServer[] = [];
afterEach(async () => {
  await cleanupFleet();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function redis(options: Parameters<typeof startRedis>[0] = {}): Promise<RedisServer> {
  const server = await startRedis(options);
  servers.push(server);
  return server;
}

/** Publish `count` events to every lane's session, retrying refusals (Redis away, session being re-created). */
async function publishEach(publisher: Publisher, lanes: readonly Lane[], count: number, deadlineMs = 15_000): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  for (const lane of lanes) {
    for (let done = 0; done < count; ) {
      if (await publisher.publish(lane)) done++;
      else if (performance.now() > deadline) throw new Error(`publishing to client ${lane.index} kept failing`);
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Keep the session ids current: a client whose session was lost rejoins as a new one. */
function follow(lanes: readonly Lane[]): void {
  for (const lane of lanes) lane.sessionId = lane.client.info.sessionId ?? lane.sessionId;
}

/** One node, two clients behind a balancer, five events each delivered; returns their epoch. */
async function oneNodeWithTwoClients(server: RedisServer) {
  const balancer = await startBalancer(await startNode(server.url, 'a'));
  const publisher = await startPublisher(server.url);
  const lanes = await startLanes(balancer.url, 2);
  await publishEach(publisher, lanes, 5);
  await settle(lanes);
  return { publisher, lanes, epoch: lanes[0]!.client.info.epoch };
}

function expectClean(lanes: readonly Lane[]): { gaps: number; delivered: number } {
  const result = audit(lanes);
  expect(result.violations).toEqual([]);
  return result;
}

/** Every gap a client signalled, in words, for a failure message. */
function gapsSignalled(lanes: readonly Lane[], phases: readonly string[] = []): string {
  const lines: string[] = [...phases];
  for (const lane of lanes) {
    const gaps = lane.outputs.filter((o) => o.kind === 'gap');
    for (const o of gaps) lines.push(`client ${lane.index}: ${JSON.stringify(o.gap)} (landing in epoch ${String(o.landing)})`);
    if (gaps.length > 0) lines.push(...lane.trace.map((line) => `  ${line}`));
  }
  return `gaps signalled:\n${lines.join('\n')}`;
}

/** Where the fleet keeps its log: one Redis, or a 3-master Redis Cluster (root URLs, comma-separated). */
interface Store {
  readonly url: string;
  /** Keys on each cluster master (undefined for one Redis). */
  keysPerMaster?(): Promise<number[]>;
}

const STORES: ReadonlyArray<readonly [string, () => Promise<Store>]> = [
  ['one Redis', () => redis()],
  [
    'a 3-master Redis Cluster',
    async () => {
      const cluster = await startRedisCluster(3);
      onCleanup(() => cluster.stop());
      return { url: cluster.urls.join(','), keysPerMaster: () => Promise.all(cluster.nodes.map(async (n) => Number(await n.cli('dbsize')))) };
    },
  ],
];

// The node-level scenarios run on both stores: the key layout and the sharded fan-out must not
// change what a client sees.
describe.each(STORES)('a gateway fleet on %s', (_name, store) => {
  it('a client on a SIGKILLed node rejoins on another and receives exactly what it missed', async () => {
    const server = await store();
    const a = await startNode(server.url, 'a');
    const b = await startNode(server.url, 'b');
    const balancer = await startBalancer(a);
    const publisher = await startPublisher(server.url);
    const lanes = await startLanes(balancer.url, 3);
    await publishEach(publisher, lanes, 10);
    sendMessages(lanes);
    await settle(lanes);
    await killNode(a);
    balancer.setTarget({ host: '127.0.0.1', port: b.port });
    await publishEach(publisher, lanes, 10); // while the clients find their way to b
    sendMessages(lanes);
    await settle(lanes);
    expect(expectClean(lanes).gaps).toBe(0);
    expect((await auditMessages(lanes, [a, b])).violations).toEqual([]);
    // On a cluster the sessions landed on more than one master: the hash tags, not luck, kept
    // each session's keys (and its fan-out channel) in one slot.
    const keys = await server.keysPerMaster?.();
    if (keys) expect(keys.filter((n) => n > 0).length).toBeGreaterThan(1);
  }, 60_000);

  it('survives a rolling restart of 3 nodes under a live stream to 100 clients', async () => {
    const server = await store();
    const nodes = [await startNode(server.url, 'n1'), await startNode(server.url, 'n2'), await startNode(server.url, 'n3')];
    const all = [...nodes];
    const balancer = await startBalancer(nodes[0]!);
    const publisher = await startPublisher(server.url);
    // 25 sessions with 4 clients each: every session has clients that move at different times.
    const lanes = await startLanes(balancer.url, 100, (i, earlier) => (i >= 25 ? earlier[i % 25] : undefined));
    const owners = lanes.slice(0, 25);
    let running = true;
    const phases = [`at ${Math.round(performance.now())} ms the stream starts`];
    const stream = (async () => {
      for (let i = 0; running; i++) {
        await publisher.publish(owners[i % owners.length]!);
        // Pacing the generator (about 1000 events/s), not waiting for a condition.
        if (i % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    for (let i = 0; i < 3; i++) {
      const next = nodes[(i + 1) % 3]!;
      balancer.setTarget({ host: '127.0.0.1', port: next.port });
      phases.push(`at ${Math.round(performance.now())} ms the balancer sends to node ${(i + 1) % 3}, node ${i} drains`);
      // Drain the old node (its clients reconnect through the balancer to `next`) while its
      // replacement starts.
      const [, replacement] = await Promise.all([stopNode(nodes[i]!), startNode(server.url, `n${i + 1}b`)]);
      phases.push(`at ${Math.round(performance.now())} ms node ${i} stopped and its replacement listens`);
      sendMessages(lanes);
      nodes[i] = replacement;
      all.push(replacement);
    }
    running = false;
    await stream;
    await settle(lanes, 30_000);
    const { gaps, delivered } = expectClean(lanes);
    expect(gaps, gapsSignalled(lanes, phases)).toBe(0);
    expect(delivered).toBeGreaterThan(100);
    expect((await auditMessages(lanes, all)).violations).toEqual([]);
  }, 90_000);

});

describe('a gateway fleet on Redis', () => {
  it('an HTTP client behind a round-robin balancer (no sticky sessions) whose stream node is SIGKILLed rejoins on another: no gap, no duplicate, each message applied once', async () => {
    const server = await redis();
    const a = await startNode(server.url, 'a');
    const b = await startNode(server.url, 'b');
    const nodes = [a, b];
    // Each request goes to the next node: a client's POSTs land on every node, its stream on one.
    const balancer = await startRoundRobinProxy(nodes.map((n) => n.port));
    onCleanup(() => balancer.close());
    const publisher = await startPublisher(server.url);
    const lanes = await startLanes(balancer.url.replace(/^http/, 'ws'), 3, undefined, { transports: ['http'] });
    // Clients 0 and 2 have their stream on a, client 1 on b; three clients on two nodes, so
    // their POSTs do not keep step with their streams: many land on the other node.
    expect(balancer.routed.filter((r) => r.method === 'GET').map((r) => r.upstream)).toEqual([a.port, b.port, a.port]);
    await publishEach(publisher, lanes, 10);
    for (let round = 0; round < 2; round++) {
      sendMessages(lanes);
      await waitFor(() => lanes.every((l) => l.sends.every((s) => s.outcome !== undefined)), 10_000, 'the messages sent so far to be acknowledged');
    }
    await settle(lanes);
    sendMessages(lanes); // in flight as a dies
    await killNode(a);
    await publishEach(publisher, lanes, 10); // while client 0 finds its way to b
    sendMessages(lanes);
    await settle(lanes);
    expect(expectClean(lanes).gaps).toBe(0);
    expect((await auditMessages(lanes, nodes)).violations).toEqual([]);
    // No POST sent a client away: those on a rejoined once, when a died; the one on b stayed,
    // unless a POST of it was on a at that moment (the client then resumes as from a lost stream).
    const joins = lanes.map((l) => l.outputs.filter((o) => o.kind === 'handshake').length);
    expect(joins[0]).toBe(2);
    expect(joins[2]).toBe(2);
    expect(joins[1]).toBeLessThanOrEqual(2);
  }, 60_000);

  it('an outage longer than the window gets a correct gap', async () => {
    const server = await redis();
    const a = await startNode(server.url, 'a');
    const balancer = await startBalancer(a);
    const publisher = await startPublisher(server.url, 30);
    const lanes = await startLanes(balancer.url, 1);
    await publishEach(publisher, lanes, 5);
    await settle(lanes);
    balancer.refuse(true);
    balancer.drop();
    await publishEach(publisher, lanes, 50); // 50 > window 30
    balancer.refuse(false);
    await settle(lanes);
    const { gaps } = expectClean(lanes);
    expect(gaps).toBe(1);
    expect(lanes[0]!.outputs.find((o) => o.kind === 'gap')).toMatchObject({ gap: { expected: 6, received: 26, reason: 'window' } });
  });

  it('Redis restarted with appendfsync always: same epoch, seamless resume', async () => {
    const server = await redis({ appendfsync: 'always' });
    const { publisher, lanes, epoch } = await oneNodeWithTwoClients(server);
    servers.push(await server.restart());
    await publishEach(publisher, lanes, 5);
    await settle(lanes);
    expect(expectClean(lanes).gaps).toBe(0);
    expect(lanes[0]!.client.info.epoch).toBe(epoch);
  });

  it.each([
    ['empty (no persistence)', {}],
    ['appendfsync everysec', { appendfsync: 'everysec' as const }],
  ])('Redis restarted %s: a new epoch before any seq is reused, and an honest gap', async (_name, options) => {
    const server = await redis(options);
    const { publisher, lanes, epoch } = await oneNodeWithTwoClients(server);
    servers.push(await server.restart());
    // The nodes notice the moved history and close their clients, which rejoin (a new session
    // when Redis came back empty): publish to wherever each client now is.
    await waitFor(() => lanes.every((l) => l.client.info.epoch !== epoch && l.client.state === 'joined'), 15_000, 'the clients to rejoin in a new epoch');
    follow(lanes);
    await publishEach(publisher, lanes, 5);
    await settle(lanes);
    const { gaps } = expectClean(lanes);
    expect(gaps).toBeGreaterThanOrEqual(2);
  });

  it('a replica promoted after writes it never received: a new epoch before any seq is reused', async () => {
    const primary = await redis();
    // The replica follows through a proxy, so the test decides which writes it never receives.
    const link = await createFaultProxy({ target: { host: '127.0.0.1', port: primary.port } });
    onCleanup(() => link.close());
    const replica = await redis({ replicaOf: link });
    // Nodes reach Redis through a proxy, as through a failover-aware address.
    const front = await createFaultProxy({ target: { host: '127.0.0.1', port: primary.port } });
    onCleanup(() => front.close());
    const url = `redis://127.0.0.1:${front.port}`;
    const a = await startNode(url, 'a');
    const balancer = await startBalancer(a);
    const publisher = await startPublisher(url);
    const lanes = await startLanes(balancer.url, 2);
    await publishEach(publisher, lanes, 3);
    await replicaCaughtUp(primary, replica);
    link.stall();
    await publishEach(publisher, lanes, 3); // acknowledged by the primary only
    await settle(lanes);
    const epoch = lanes[0]!.client.info.epoch;
    await primary.kill();
    await link.close();
    await replica.cli('replicaof', 'no', 'one');
    front.setTarget({ host: '127.0.0.1', port: replica.port });
    front.drop();
    await waitFor(() => lanes.every((l) => l.client.info.epoch !== epoch && l.client.state === 'joined'), 15_000, 'the clients to rejoin in a new epoch');
    await publishEach(publisher, lanes, 3);
    await settle(lanes);
    expectClean(lanes);
  });

  it('replicated: a publish the replicas never confirmed reaches no client, and after a promotion no (epoch, seq) names two events', async () => {
    const primary = await redis();
    const link = await createFaultProxy({ target: { host: '127.0.0.1', port: primary.port } });
    onCleanup(() => link.close());
    const replica = await redis({ replicaOf: link });
    const front = await createFaultProxy({ target: { host: '127.0.0.1', port: primary.port } });
    onCleanup(() => front.close());
    const url = `redis://127.0.0.1:${front.port}`;
    const a = await startNode(url, 'a', 200, 2000, 'replicated');
    const b = await startNode(url, 'b', 200, 2000, 'replicated');
    const balancer = await startBalancer(a);
    const publisher = await startPublisher(url, 200, { durability: 'replicated', waitTimeoutMs: 300 });
    const lanes = await startLanes(balancer.url, 2);
    await publishEach(publisher, lanes, 3);
    await settle(lanes);
    const epochs = lanes.map((l) => l.client.info.epoch);
    await replicaCaughtUp(primary, replica);
    link.stall();
    // The app publishes one more event per session; the replica never receives it, so WAIT
    // fails and the publish is refused. The app gives up on it: it is in no history.
    for (const lane of lanes) {
      const lost = { type: 'tick', data: { n: 1000 + lane.index }, event_id: `lost-${lane.index}`, timestamp: 0 };
      await expect(appendOne(publisher.log, lane.sessionId, lost)).rejects.toMatchObject({ code: 'unavailable' });
    }
    // Every client rejoins on the other node from its cursor: the replay must not show it either.
    const joins = lanes.map((l) => l.outputs.filter((o) => o.kind === 'handshake').length);
    balancer.setTarget({ host: '127.0.0.1', port: b.port });
    balancer.drop();
    await waitFor(
      () => lanes.every((l, i) => l.client.state === 'joined' && l.outputs.filter((o) => o.kind === 'handshake').length > joins[i]!),
      15_000,
      'the clients to rejoin on b',
    );
    await primary.kill();
    await link.close();
    await replica.cli('replicaof', 'no', 'one');
    await redis({ replicaOf: replica }); // the new primary's own replica, for the next WAITs
    front.setTarget({ host: '127.0.0.1', port: replica.port });
    front.drop();
    // Every exposed event was confirmed, so the epoch survives the promotion and the refused
    // events' seqs go to the next events.
    await publishEach(publisher, lanes, 3);
    await settle(lanes);
    expect(expectClean(lanes).gaps).toBe(0);
    expect(lanes.map((l) => l.client.info.epoch)).toEqual(epochs);
    expect(lanes[0]!.history.byN(4)).toMatchObject({ epoch: epochs[0], seq: 4 });
  }, 60_000);
});
