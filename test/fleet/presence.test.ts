// Presence across the fleet: gateway nodes on one real Redis list, in hello_ok, the sessions of
// the same credentials on every node, with connections summed over the nodes; other credentials
// and anonymous clients see nothing of each other; a crashed node's entries vanish within the
// lease bound, and a node that closes removes its own at once.
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisFleet } from '../../src/server/index.js';
import type { Gateway, GatewayOptions } from '../../src/server/index.js';
import { connect, join, startGateway } from '../support/gateway-kit.js';
import type { Frame } from '../support/raw-client.js';
import { startRedis, startRedisCluster, type RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';
import { cleanupFleet, killNode, onCleanup, startNode } from './fleet-kit.js';

/** The secret of test/fleet/node-process.ts, so owner tags agree between in-process and child nodes. */
const SECRET = 'fleet-test-secret-0123456789';
/** Lease period of every node in these tests: a dead node is forgotten within 4 of them. */
const REPORT_MS = 100;
const servers: RedisServer[] = [];

afterEach(async () => {
  await cleanupFleet();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function redis(): Promise<RedisServer> {
  const server = await startRedis();
  servers.push(server);
  return server;
}

async function node(server: RedisServer, options: GatewayOptions = {}): Promise<Gateway> {
  return startGateway({ ...createRedisFleet({ url: server.url, secret: SECRET }), fleetReportMs: REPORT_MS, ...options });
}

/** hello_ok.presence as `session:connections`, in the order listed. */
function listed(helloOk: Frame): string[] {
  return (helloOk['presence'] as Array<{ session_id: string; connections: number }>).map((p) => `${p.session_id}:${p.connections}`);
}

const sessionOf = (helloOk: Frame): string => String(helloOk['session_id']);

/** The presence hash of one agent and token, or of one anonymous session (docs/scaling.md). */
function groupKey(gateway: Gateway, agentId: string, who: { token: string } | { anonymous: string }): string {
  const group = 'token' in who ? `owner:${encodeURIComponent(gateway.log.ownerOf(who.token))}` : `anon:${encodeURIComponent(who.anonymous)}`;
  return `lifeline:{presence:${agentId}:${group}}:sessions`;
}

/**
 * Wait until Redis holds entries of `sessionId` from exactly `nodes` nodes. A node writes its
 * entry as it sends hello_ok, without waiting for Redis, so another node sees it a round trip later.
 */
async function stored(server: RedisServer, key: string, sessionId: string, nodes: number): Promise<void> {
  const deadline = performance.now() + 5000;
  const count = async () => (await server.cli('hkeys', key)).split('\n').filter((field) => field.startsWith(`${encodeURIComponent(sessionId)}|`)).length;
  while ((await count()) !== nodes) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${nodes} presence entries of ${sessionId} in ${key}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('presence across gateway nodes on one Redis', () => {
  it('lists the same credentials\' sessions on every node, with connections summed over the nodes', async () => {
    const server = await redis();
    const a = await node(server);
    const b = await node(server);
    const alice = groupKey(a, 'demo', { token: 'alice' });
    const x = await join(a, { token: 'alice' });
    const sx = sessionOf(x.helloOk);
    await stored(server, alice, sx, 1);
    const y = await join(b, { token: 'alice' });
    const sy = sessionOf(y.helloOk);
    // Y on B sees X on A.
    expect(listed(y.helloOk)).toEqual([`${sy}:1`, `${sx}:1`]);
    await stored(server, alice, sy, 1);
    // A second connection to Y's session, on the other node: 2 connections.
    const y2 = await join(a, { token: 'alice', session_id: sy });
    expect(listed(y2.helloOk)).toEqual([`${sy}:2`, `${sx}:1`]);
    await stored(server, alice, sy, 2);

    // X comes back on A: both sessions, Y counted on both nodes.
    x.client.ws.close();
    await waitFor(() => !a.presence('demo').some((p) => p.session_id === sx), 5000, 'node A to see X leave');
    const again = await join(a, { token: 'alice', session_id: sx });
    expect(listed(again.helloOk)).toEqual([`${sx}:1`, `${sy}:2`]);
    await stored(server, alice, sx, 1);
    // A legacy join gets the same list in `joined`.
    const legacy = await connect(b);
    legacy.send({ type: 'join', agent_id: 'demo', session_id: sx, token: 'alice' });
    expect((await legacy.next('joined'))['presence']).toEqual([
      { session_id: sx, agent_id: 'demo', connections: 2 },
      { session_id: sy, agent_id: 'demo', connections: 2 },
    ]);

    // Other credentials see neither; an anonymous client sees only itself.
    const bob = await join(b, { token: 'bob' });
    expect(listed(bob.helloOk)).toEqual([`${sessionOf(bob.helloOk)}:1`]);
    const anon = await join(a);
    const sz = sessionOf(anon.helloOk);
    expect(listed(anon.helloOk)).toEqual([`${sz}:1`]);
    await stored(server, groupKey(a, 'demo', { anonymous: sz }), sz, 1);
    // An anonymous session joined on two nodes counts both connections, and still shows nobody else.
    const anonOnB = await join(b, { session_id: sz });
    expect(listed(anonOnB.helloOk)).toEqual([`${sz}:2`]);
    // The operator API stays this node's view.
    expect(b.presence('demo').find((p) => p.session_id === sy)).toMatchObject({ connections: 1 });
  });

  it('caps the list at maxPresenceEntries, own session first, and counts the cut', async () => {
    const server = await redis();
    const a = await node(server, { maxPresenceEntries: 2 });
    const b = await node(server, { maxPresenceEntries: 2 });
    const alice = groupKey(a, 'demo', { token: 'alice' });
    await stored(server, alice, sessionOf((await join(a, { token: 'alice' })).helloOk), 1);
    await stored(server, alice, sessionOf((await join(a, { token: 'alice' })).helloOk), 1);
    const third = await join(b, { token: 'alice' });
    expect(listed(third.helloOk)).toHaveLength(2);
    expect(listed(third.helloOk)[0]).toBe(`${sessionOf(third.helloOk)}:1`);
    expect(b.stats().counters.presenceCapped).toBe(1);
  });

  it('forgets a crashed node\'s sessions within four lease periods, and a closed node\'s at once', async () => {
    const server = await redis();
    const a = await node(server);
    const crashed = await startNode(server.url, 'crashed', 200, REPORT_MS);
    const key = groupKey(a, 'demo', { token: 'alice' });
    const y = await join(`ws://127.0.0.1:${crashed.port}`, { token: 'alice' });
    const sy = sessionOf(y.helloOk);
    await stored(server, key, sy, 1);
    const x = await join(a, { token: 'alice' });
    const sx = sessionOf(x.helloOk);
    expect(listed(x.helloOk)).toEqual([`${sx}:1`, `${sy}:1`]);

    await killNode(crashed);
    const killedAt = performance.now();
    let goneAfter: number | undefined;
    let pruned = false;
    // Each probe is a real rejoin on A, until Y is no longer listed and a reader has deleted its
    // entry (so entries of dead nodes do not pile up). Bounded by the deadline.
    while (!pruned && performance.now() - killedAt < 10_000) {
      const probe = await join(a, { token: 'alice', session_id: sx });
      if (!listed(probe.helloOk).some((entry) => entry.startsWith(`${sy}:`))) goneAfter ??= performance.now() - killedAt;
      probe.client.ws.close();
      pruned = goneAfter !== undefined && !(await server.cli('hkeys', key)).includes(encodeURIComponent(sy));
    }
    expect(pruned).toBe(true);
    // 4 x 100 ms in theory; the rest is slack for a loaded machine.
    expect(goneAfter).toBeLessThan(4 * REPORT_MS + 2500);

    // A node that closes removes its entries itself: none of B's remain once close() resolves.
    const b = await node(server);
    const z = await join(b, { token: 'alice' });
    const sz = sessionOf(z.helloOk);
    await stored(server, key, sz, 1);
    await b.close();
    expect(await server.cli('hkeys', key)).not.toContain(encodeURIComponent(sz));
  });

  it('writes its entries again after Redis lost them (evicted, deleted)', async () => {
    const server = await redis();
    const a = await node(server);
    const b = await node(server);
    const alice = groupKey(a, 'demo', { token: 'alice' });
    const y = await join(b, { token: 'alice' });
    const sy = sessionOf(y.helloOk);
    await stored(server, alice, sy, 1);
    expect(await server.cli('del', alice, 'lifeline:{presence}:nodes')).toBe('2');
    // B finds its lease gone at its next renewal and writes what it holds again.
    await stored(server, alice, sy, 1);
    const x = await join(a, { token: 'alice' });
    expect(listed(x.helloOk)).toEqual([`${sessionOf(x.helloOk)}:1`, `${sy}:1`]);
  });

  it('works on a 3-master Redis Cluster (each group in its own slot)', async () => {
    const cluster = await startRedisCluster(3);
    onCleanup(() => cluster.stop());
    const onCluster = () => startGateway({ ...createRedisFleet({ url: [...cluster.urls], secret: SECRET }), fleetReportMs: REPORT_MS });
    const a = await onCluster();
    const b = await onCluster();
    const x = await join(a, { token: 'alice' });
    const sx = sessionOf(x.helloOk);
    // Written on whichever master holds the group's slot; a join on B reads it from there.
    let y = await join(b, { token: 'alice' });
    for (const deadline = performance.now() + 5000; listed(y.helloOk).length < 2 && performance.now() < deadline; ) {
      y.client.ws.close();
      y = await join(b, { token: 'alice', session_id: sessionOf(y.helloOk) });
    }
    expect(listed(y.helloOk)).toEqual([`${sessionOf(y.helloOk)}:1`, `${sx}:1`]);
  });
});
