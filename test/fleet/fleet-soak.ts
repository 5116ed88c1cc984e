// `npm run soak -- --fleet [--minutes N] [--seed S] [--clients C]`: three gateway node processes
// on a real Redis (appendfsync always) behind a load balancer, a live stream to every client,
// and faults at random: node SIGKILL, node drain (SIGTERM), Redis SIGKILL + restart, load
// balancer drops. Then it settles and judges every client with the stream checker. Exits 1 on
// any violation, with the seed to replay the fault sequence.
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { createRng } from '../chaos/prng.js';
import { appliedTwice, audit, cleanupFleet, killNode, sendMessages, settle, startBalancer, startLanes, startNode, startPublisher, stopNode, type FleetNode } from './fleet-kit.js';

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
    for (let round = 0; performance.now() < deadline && round < 10_000; round++) {
      await pause(rng.int(1000, 4000));
      const kind = rng.pick(['kill-node', 'drain-node', 'restart-redis', 'drop'] as const);
      faults[kind] = (faults[kind] ?? 0) + 1;
      options.log(`fault ${round + 1}: ${kind}`);
      if (kind === 'drop') balancer.drop();
      else if (kind === 'restart-redis') redis = await redis.restart();
      else {
        const i = rng.int(0, nodes.length - 1);
        const next = nodes[(i + 1) % nodes.length]!;
        balancer.setTarget({ host: '127.0.0.1', port: next.port });
        await (kind === 'kill-node' ? killNode(nodes[i]!) : stopNode(nodes[i]!));
        nodes[i] = await startNode(redis.url, `n${i}-${round}`);
        all.push(nodes[i]!);
      }
      sendMessages(lanes);
    }
    running = false;
    await stream;
    await settle(lanes, 60_000);
    const result = audit(lanes);
    options.log(`faults ${JSON.stringify(faults)}; ${result.delivered} events delivered, ${result.gaps} gaps`);
    return [...result.violations, ...appliedTwice(all)];
  } finally {
    await cleanupFleet();
    await redis.stop();
  }
}
