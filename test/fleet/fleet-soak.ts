// `npm run soak -- --fleet [--minutes N] [--seed S] [--clients C]`: three gateway node processes
// on a real Redis (appendfsync always) behind a load balancer, a live stream to every client,
// and faults at random: node SIGKILL, node drain (SIGTERM), Redis SIGKILL + restart, load
// balancer drops, a node SIGKILLed while Redis is frozen (SIGSTOP) with its clients' message
// claims on their way, and a node's link to Redis that stops forwarding without closing (each
// node reaches Redis through a TCP proxy of its own; its /health must answer 503 meanwhile).
// Then it settles and judges every client with the stream checker and every message sent
// (acknowledged, applied exactly once, never acknowledged while applied nowhere).
// Exits 1 on any violation, with the seed to replay the fault sequence.
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { createRng } from '../chaos/prng.js';
import { waitFor, waitForAsync } from '../support/wait-for.js';
import { audit, auditMessages, cleanupFleet, killNode, sendMessages, settle, startBalancer, startLanes, startNode, startPublisher, startRedisLink, stopNode, type FleetNode } from './fleet-kit.js';

/** Pacing the fault generator, not waiting for a condition. */
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Run the fleet soak; resolves with the violations (empty: the fleet behaved). */
export async function runFleetSoak(options: { minutes: number; seed: number; clients: number; log: (line: string) => void }): Promise<string[]> {
  const rng = createRng(options.seed);
  let redis: RedisServer = await startRedis({ appendfsync: 'always' });
  const nodes: FleetNode[] = [];
  const all: FleetNode[] = [];
  try {
    // Node slot i always reaches Redis through links[i] (a restarted Redis keeps its port).
    const links: Awaited<ReturnType<typeof startRedisLink>>[] = [];
    for (let i = 0; i < 3; i++) links.push(await startRedisLink(redis.port));
    const linkOf = (i: number): string => links[i]!.redisUrl;
    const faultViolations: string[] = [];
    for (let i = 0; i < 3; i++) nodes.push(await startNode(linkOf(i), `n${i}`));
    all.push(...nodes);
    const balancer = await startBalancer(nodes[0]!);
    const publisher = await startPublisher(redis.url);
    const lanes = await startLanes(balancer.url, options.clients);
    let running = true;
    const stream = (async () => {
      for (let i = 0; running; i++) {
        await publisher.publish(lanes[i % lanes.length]!);
        if (i % 10 === 0) await pause(10);
      }
    })();
    const faults: Record<string, number> = {};
    const deadline = performance.now() + options.minutes * 60_000;
    // The node the balancer sends new connections to.
    let current = 0;
    const replace = async (i: number, round: number, stop: (node: FleetNode) => Promise<void>): Promise<void> => {
      current = (i + 1) % nodes.length;
      balancer.setTarget({ host: '127.0.0.1', port: nodes[current]!.port });
      await stop(nodes[i]!);
      nodes[i] = await startNode(linkOf(i), `n${i}-${round}`);
      all.push(nodes[i]!);
    };
    for (let round = 0; performance.now() < deadline && round < 10_000; round++) {
      await pause(rng.int(1000, 4000));
      const kind = rng.pick(['kill-node', 'drain-node', 'restart-redis', 'drop', 'kill-node-redis-stalled', 'stall-redis-link'] as const);
      faults[kind] = (faults[kind] ?? 0) + 1;
      options.log(`fault ${round + 1}: ${kind}`);
      if (kind === 'drop') balancer.drop();
      else if (kind === 'restart-redis') redis = await redis.restart();
      else if (kind === 'stall-redis-link') {
        // No RST: the node must notice by its deadlines (3 s at most with the defaults), refuse
        // with `unavailable` meanwhile, send the balancer away with 503, and recover by itself.
        const i = rng.int(0, nodes.length - 1);
        const node = nodes[i]!;
        links[i]!.stall();
        sendMessages(lanes);
        const health = async (): Promise<number> => (await fetch(`http://127.0.0.1:${node.port}/health`)).status;
        await waitForAsync(async () => (await health()) === 503, 6000, 'a 503', 100).catch(() => {
          faultViolations.push(`round ${round + 1}: node ${node.id} did not answer /health with 503 within 6 s of its Redis link stalling`);
        });
        await pause(rng.int(0, 3000));
        links[i]!.resume();
        await waitForAsync(async () => (await health()) === 200, 15_000, 'a 200', 100).catch(() => {
          faultViolations.push(`round ${round + 1}: node ${node.id} still not ok 15 s after its Redis link came back`);
        });
        continue;
      }
      else if (kind === 'kill-node-redis-stalled') {
        // Messages reach the node, their claims wait in the frozen Redis, the node dies: Redis
        // runs claims of a node that is gone, and the resends elsewhere must still apply them.
        const victim = nodes[current]!;
        const claimed = victim.claiming().length;
        redis.pause();
        sendMessages(lanes);
        await waitFor(() => victim.claiming().length >= claimed + lanes.length, 2000, 'the claims to be on their way').catch(() => undefined);
        await replace(current, round, async (node) => {
          await killNode(node);
          redis.resume();
        });
        continue;
      } else {
        const i = rng.int(0, nodes.length - 1);
        await replace(i, round, kind === 'kill-node' ? killNode : stopNode);
      }
      sendMessages(lanes);
    }
    running = false;
    await stream;
    await settle(lanes, 60_000);
    const result = audit(lanes);
    const messages = await auditMessages(lanes, all, 60_000);
    const sent = lanes.reduce((n, l) => n + l.sends.length, 0);
    options.log(`faults ${JSON.stringify(faults)}; ${result.delivered} events delivered, ${result.gaps} gaps; ${sent} messages, ${messages.reappliedAfterCrash} re-applied after a crash between handler and record`);
    return [...faultViolations, ...result.violations, ...messages.violations];
  } finally {
    await cleanupFleet();
    await redis.stop();
  }
}
