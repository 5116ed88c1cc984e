// The fleet on Redis against the single-node in-memory gateway, in one run: publish->deliver
// throughput and latency for a client on another node than the publisher (A publishes, the
// client is on B), Redis round trips per published event (MONITOR + INFO commandstats, async and
// replicated durability), and Redis memory per session at the default window. Runs in this
// process (gateways, the counting client and the publisher share one event loop, in both
// setups alike), against a redis-server it starts and stops.
import WebSocket from 'ws';
import { createGateway, createRedisLog, type Gateway } from '../src/server/index.js';
import { countCommands, total } from '../test/support/redis-commands.js';
import { startRedis, type RedisServer } from '../test/support/redis-server.js';
import { figure, type Bench, type BenchResult, type Figure, type Scale } from './lib/report.js';
import { pairedRatios, quantile } from './lib/stats.js';

const SECRET = 'bench-secret-0123456789abcdef';
const CONFIG: Record<Scale, { events: number; rounds: number; sessions: number; window: number }> = {
  full: { events: 5000, rounds: 3, sessions: 200, window: 1000 },
  smoke: { events: 50, rounds: 1, sessions: 5, window: 20 },
};

/** One joined raw client that timestamps each live event by seq. */
async function countingClient(
  url: string,
  sessionId: string | undefined,
): Promise<{ sessionId: string; arrivals: Map<number, number>; arrived(seq: number): Promise<void>; close(): void }> {
  const ws = new WebSocket(url);
  const arrivals = new Map<number, number>();
  const waiters = new Map<number, () => void>();
  let resolveJoined: (id: string) => void = () => undefined;
  const joined = new Promise<string>((resolve) => (resolveJoined = resolve));
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as { type: string; seq?: number; session_id?: string; frames?: Array<{ type: string; seq?: number }> };
    const at = performance.now();
    if (frame.type === 'hello_ok' && frame.session_id) resolveJoined(frame.session_id);
    for (const f of frame.type === 'batch' ? (frame.frames ?? []) : [frame]) {
      if (f.type !== 'event' || f.seq === undefined) continue;
      arrivals.set(f.seq, at);
      waiters.get(f.seq)?.();
    }
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ type: 'hello', agent_id: 'bench', protocol_min: 1, protocol_max: 1, ...(sessionId ? { session_id: sessionId } : {}) }));
  const arrived = (seq: number): Promise<void> =>
    arrivals.has(seq) ? Promise.resolve() : new Promise((resolve) => waiters.set(seq, () => resolve()));
  return { sessionId: await joined, arrivals, arrived, close: () => ws.terminate() };
}

/** Publish `events` on `publisher` (`inFlight` at a time) to a client joined on `subscriberNode`; events/s and per-event latencies. */
async function stream(publisher: Gateway, subscriberNode: Gateway, events: number, inFlight: number): Promise<{ rate: number; latencies: number[] }> {
  const client = await countingClient(subscriberNode.url, undefined);
  // The publisher must know the session: a client there creates it for the memory gateway too.
  const sent = new Map<number, number>();
  const started = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < events) {
      next++;
      const at = performance.now();
      const seq = await publisher.publish(client.sessionId, { type: 'tick', data: { text: 'x'.repeat(64) } });
      sent.set(seq, at);
      // One at a time: wait for the delivery, so the next publish never queues behind this one
      // (the memory gateway's publish never yields to I/O on its own).
      if (inFlight === 1) await client.arrived(seq);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const deadline = performance.now() + 60_000;
  while (client.arrivals.size < events && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  const ended = Math.max(...client.arrivals.values());
  client.close();
  const latencies = [...sent].map(([seq, at]) => (client.arrivals.get(seq) ?? Number.NaN) - at).filter(Number.isFinite);
  return { rate: (client.arrivals.size * 1000) / (ended - started), latencies };
}

async function fleetPair(server: RedisServer, window: number): Promise<[Gateway, Gateway]> {
  const node = () =>
    createGateway({ logger: false, rateLimit: false, fleetReportMs: 3_600_000, log: createRedisLog({ url: server.url, secret: SECRET, replayWindow: window }) });
  return [await node(), await node()];
}

/** Round trips the publishing node sends per event, from MONITOR, with commandstats as a cross-check. */
async function roundTrips(server: RedisServer, gateway: Gateway, events: number): Promise<{ perEvent: number; stats: number }> {
  const client = await countingClient(gateway.url, undefined);
  await gateway.publish(client.sessionId, { type: 'warm' }); // the first EVALSHA may meet NOSCRIPT
  const executed = await countCommands(server, async () => {
    for (let i = 0; i < events; i++) await gateway.publish(client.sessionId, { type: 'tick' });
  });
  client.close();
  return { perEvent: total(executed.sent) / events, stats: total(executed.stats) / events };
}

/** used_memory growth per session with `window` events of a ~100-byte payload each. */
async function memoryPerSession(server: RedisServer, sessions: number, window: number): Promise<{ perSession: number; perEvent: number }> {
  const log = createRedisLog({ url: server.url, secret: SECRET, replayWindow: window });
  await log.open();
  await server.cli('flushall');
  const before = Number(/used_memory:(\d+)/.exec(await server.cli('info', 'memory'))?.[1]);
  for (let s = 0; s < sessions; s++) {
    const id = `mem-${s}`;
    await log.createSession(id, 'bench', log.ownerOf('token'));
    await Promise.all(Array.from({ length: window }, (_, n) => log.append(id, { type: 'tick', data: { text: 'x'.repeat(64), n }, event_id: `${id}-${n}`, timestamp: 1.5e9 + n })));
  }
  const after = Number(/used_memory:(\d+)/.exec(await server.cli('info', 'memory'))?.[1]);
  await log.close();
  const perSession = (after - before) / sessions;
  return { perSession, perEvent: perSession / window };
}

export const fleet: Bench = {
  name: 'fleet',
  title: 'fleet on Redis: cross-node publish->deliver vs the single-node memory gateway; round trips; memory',
  async run(scale, progress): Promise<BenchResult> {
    const { events, rounds, sessions, window } = CONFIG[scale];
    const server = await startRedis();
    const replica = await startRedis({ replicaOf: server });
    const figures: Figure[] = [];
    try {
      const rates = { memory: [] as number[], fleet: [] as number[] };
      const lat = { memory: [] as number[], fleet: [] as number[] };
      for (let i = 0; i < rounds; i++) {
        progress(`fleet: round ${i + 1}/${rounds}, ${events} events`);
        // Latency one publish at a time (so it measures the path, not a queue the publisher piled
        // up), taken first: a throughput run leaves the gateway writing out its backlog for a while.
        // Throughput with 64 publishes in flight.
        const single = await createGateway({ logger: false, rateLimit: false });
        lat.memory.push(...(await stream(single, single, events / 10, 1)).latencies);
        rates.memory.push((await stream(single, single, events, 64)).rate);
        await single.close();
        const [a, b] = await fleetPair(server, window);
        // The client sits on B and the event is published on A: the path crosses Redis.
        lat.fleet.push(...(await stream(a, b, events / 10, 1)).latencies);
        rates.fleet.push((await stream(a, b, events, 64)).rate);
        await Promise.all([a.close(), b.close()]);
      }
      figures.push(
        figure('fleet', 'publish_deliver', 'memory, one node', 'events/s', 'ev/s', rates.memory),
        figure('fleet', 'publish_deliver', 'redis, A -> B', 'events/s', 'ev/s', rates.fleet),
        figure('fleet', 'publish_deliver', 'redis/memory', 'throughput ratio', 'x', pairedRatios(rates.fleet, rates.memory)),
        figure('fleet', 'latency_p50', 'memory, one node', 'latency', 'ms', [quantile(lat.memory, 0.5)]),
        figure('fleet', 'latency_p50', 'redis, A -> B', 'latency', 'ms', [quantile(lat.fleet, 0.5)]),
        figure('fleet', 'latency_p99', 'memory, one node', 'latency', 'ms', [quantile(lat.memory, 0.99)]),
        figure('fleet', 'latency_p99', 'redis, A -> B', 'latency', 'ms', [quantile(lat.fleet, 0.99)]),
        figure('fleet', 'latency_p99', 'redis/memory', 'latency ratio', 'x', [quantile(lat.fleet, 0.99) / quantile(lat.memory, 0.99)]),
      );
      progress('fleet: round trips per publish');
      const [a] = await fleetPair(server, window);
      const asyncTrips = await roundTrips(server, a, Math.min(events, 500));
      await a.close();
      const durable = await createGateway({
        logger: false,
        rateLimit: false,
        fleetReportMs: 3_600_000,
        log: createRedisLog({ url: server.url, secret: SECRET, durability: 'replicated', replicas: 1 }),
      });
      const replicatedTrips = await roundTrips(server, durable, Math.min(events, 500));
      await durable.close();
      figures.push(
        figure('fleet', 'round_trips', 'durability async', 'commands sent per publish', 'n', [asyncTrips.perEvent]),
        figure('fleet', 'round_trips', 'durability replicated', 'commands sent per publish', 'n', [replicatedTrips.perEvent]),
        figure('fleet', 'round_trips', 'durability async', 'commandstats calls per publish (incl. inside the script)', 'n', [asyncTrips.stats]),
      );
      progress(`fleet: Redis memory, ${sessions} sessions x ${window} events`);
      const memory = await memoryPerSession(server, sessions, window);
      figures.push(
        figure('fleet', `memory_window_${window}`, 'redis', 'bytes per session', 'B', [memory.perSession]),
        figure('fleet', `memory_window_${window}`, 'redis', 'bytes per event', 'B', [memory.perEvent]),
      );
      return {
        figures,
        targets: [{ bench: 'fleet', case: 'round_trips', target: 'exactly 1 command per publish (async)', value: asyncTrips.perEvent, met: asyncTrips.perEvent === 1 }],
        notes: [
          'publish_deliver: 64 publishes in flight (latency: one at a time, events/10 per round); the client is joined on node B and every event is published on node A, so each crosses Redis (EVALSHA, SPUBLISH to B, B delivers); the baseline is one memory gateway delivering its own publishes',
          'round trips: commands the publishing node sent, counted with MONITOR (commands run inside the script are tagged lua and not counted); commandstats counts the script-internal ones too',
          'memory: used_memory growth per session with a full window of events of a 64-character text payload, plus meta and owner',
        ],
      };
    } finally {
      await replica.stop();
      await server.stop();
    }
  },
};
