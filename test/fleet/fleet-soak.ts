// `npm run soak -- --fleet [--minutes N] [--seed S] [--clients C]`: three gateway node processes
// on a real Redis (appendfsync always) behind a load balancer, a live stream to every client,
// and faults at random: node SIGKILL, node drain (SIGTERM), Redis SIGKILL + restart, load
// balancer drops, and a node SIGKILLed while Redis is frozen (SIGSTOP) with its clients' message
// claims on their way. Then it settles and judges every client with the stream checker and every
// message sent (acknowledged, applied exactly once, never acknowledged while applied nowhere).
// Exits 1 on any violation, with the seed to replay the fault sequence.
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { createRng } from '../chaos/prng.js';
import { waitFor } from '../support/wait-for.js';
import { audit, auditMessages, cleanupFleet, killNode, sendMessages, settle, startBalancer, startLanes, startNode, startPublisher, stopNode, type FleetNode } from './fleet-kit.js';

/** Pacing the fault generator, not waiting for a condition. */
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Run the fleet soak; resolves with the violations (empty: the fleet behaved). */
export async function runFleetSoak(options: { minutes: number; seed: number; clients: number; log: (line: string) => void }): Promise<string[]> {
  const rng = createRng(options.seed);
  let redis: RedisServer = await startRedis({ appendfsync: 'always' });
  const nodes: FleetNode[] = [];
  const all: FleetNode[] = [];
  try {
    for (let i = 0; i < 3; i++) nodes.push(await startNode(redis.url, `n${i}`));
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
      nodes[i] = await startNode(redis.url, `n${i}-${round}`);
      all.push(nodes[i]!);
    };
    for (let round = 0; performance.now() < deadline && round < 10_000; round++) {
      await pause(rng.int(1000, 4000));
      const kind = rng.pick(['kill-node', 'drain-node', 'restart-redis', 'drop', 'kill-node-redis-stalled'] as const);
      faults[kind] = (faults[kind] ?? 0) + 1;
      options.log(`fault ${round + 1}: ${kind}`);
      if (kind === 'drop') balancer.drop();
      else if (kind === 'restart-redis') redis = await redis.restart();
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
    return [...result.violations, ...messages.violations];
  } finally {
    await cleanupFleet();
    await redis.stop();
  }
}
