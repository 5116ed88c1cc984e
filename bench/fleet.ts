// The fleet on Redis against the single-node in-memory gateway, in one run: publish->deliver
// throughput and latency for a client on another node than the publisher (A publishes, the
// client is on B), Redis round trips per published event (MONITOR + INFO commandstats, async and
// replicated durability), what the publish script's run_id read (INFO server) costs, and Redis
// memory per session at the default window. Runs in this process (gateways, the counting client
// and the publisher share one event loop, in both setups alike), against a redis-server it
// starts and stops.
import WebSocket from 'ws';
import { createClient } from 'redis';
import { createGateway, createRedisFleet, type Gateway } from '../src/server/index.js';
import { keyList, sessionKeys } from '../src/server/redis/keys.js';
import { LIFELINE_SCRIPTS } from '../src/server/redis/scripts.js';
import { countCommands, total } from '../test/support/redis-commands.js';
import { startRedis, type RedisServer } from '../test/support/redis-server.js';
import { createCleanup, type Cleanup } from './lib/cleanup.js';
import { figure, type Bench, type BenchResult, type Figure, type Scale } from './lib/report.js';
import { median, pairedRatios, quantile } from './lib/stats.js';

const SECRET = 'bench-secret-0123456789abcdef';
const CONFIG: Record<Scale, { events: number; rounds: number; sessions: number; window: number; costBatches: number; costCalls: number }> = {
  full: { events: 5000, rounds: 5, sessions: 200, window: 1000, costBatches: 10, costCalls: 2000 },
  smoke: { events: 50, rounds: 1, sessions: 5, window: 20, costBatches: 2, costCalls: 20 },
};

interface CountingClient {
  readonly sessionId: string;
  readonly arrivals: Map<number, number>;
  arrived(seq: number): Promise<void>;
  close(): void;
}

/** One joined raw client that timestamps each live event by seq. */
async function countingClient(url: string, sessionId: string | undefined): Promise<CountingClient> {
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
  try {
    return await streamTo(client, publisher, events, inFlight);
  } finally {
    client.close();
  }
}

async function streamTo(client: CountingClient, publisher: Gateway, events: number, inFlight: number): Promise<{ rate: number; latencies: number[] }> {
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
  const latencies = [...sent].map(([seq, at]) => (client.arrivals.get(seq) ?? Number.NaN) - at).filter(Number.isFinite);
  return { rate: (client.arrivals.size * 1000) / (ended - started), latencies };
}

/** One gateway node on `server`, closed by `cleanup` at the latest (closing twice is harmless). */
async function fleetNode(cleanup: Cleanup, server: RedisServer, window: number): Promise<Gateway> {
  const { log, fleet } = createRedisFleet({ url: server.url, secret: SECRET, replayWindow: window });
  return cleanup.add(await createGateway({ logger: false, rateLimit: false, fleetReportMs: 3_600_000, log, fleet }), (g) => g.close());
}

/**
 * Round trips the publishing node sends per event, from MONITOR, with commandstats as a
 * cross-check: publishes awaited one at a time (`inFlight` 1), or `inFlight` at once, which the
 * gateway stores in bursts.
 */
async function roundTrips(server: RedisServer, gateway: Gateway, events: number, inFlight = 1): Promise<{ perEvent: number; stats: number }> {
  const client = await countingClient(gateway.url, undefined);
  let executed: Awaited<ReturnType<typeof countCommands>>;
  try {
    await gateway.publish(client.sessionId, { type: 'warm' }); // the first EVALSHA may meet NOSCRIPT
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < events) {
        next++;
        await gateway.publish(client.sessionId, { type: 'tick' });
      }
    };
    executed = await countCommands(server, async () => {
      await Promise.all(Array.from({ length: inFlight }, worker));
    });
  } finally {
    client.close();
  }
  return { perEvent: total(executed.sent) / events, stats: total(executed.stats) / events };
}

/** `calls` and `usec` of one command in INFO commandstats. */
async function commandTime(server: RedisServer, name: string): Promise<{ calls: number; usec: number }> {
  const match = new RegExp(`cmdstat_${name}:calls=(\\d+),usec=(\\d+)`).exec(await server.cli('info', 'commandstats'));
  return { calls: Number(match?.[1] ?? 0), usec: Number(match?.[2] ?? 0) };
}

/**
 * What the run_id read costs: the real publish script against the same script with the run_id
 * as a constant (the session's own, so both run the same path), alternating batches of awaited
 * EVALSHAs on one connection. Server time per script from commandstats, and publishes/s as the
 * caller sees them.
 */
async function runIdCost(cleanup: Cleanup, server: RedisServer, batches: number, calls: number, window: number) {
  const { log } = createRedisFleet({ url: server.url, secret: SECRET, replayWindow: window });
  await log.open();
  try {
    await log.createSession('runid-cost', 'bench');
  } finally {
    await log.close();
  }
  const client = cleanup.add(createClient({ url: server.url }), (c) => (c.isOpen ? c.destroy() : undefined));
  await client.connect();
  const runId = /run_id:(\w+)/.exec(await client.info('server'))?.[1] ?? '';
  const real = String(LIFELINE_SCRIPTS.lifelineAppend.SCRIPT);
  const read = "string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')";
  if (!real.includes(read)) throw new Error('the publish script no longer reads the run_id as the bench expects');
  const shas = { info: await client.scriptLoad(real), constant: await client.scriptLoad(real.replace(read, `'${runId}'`)) };
  const keys = sessionKeys('lifeline:', 'runid-cost');
  const payload = JSON.stringify({ type: 'tick', data: { text: 'x'.repeat(64) }, event_id: 'e', timestamp: 1.5e9 });
  const command = (sha: string): string[] => ['EVALSHA', sha, '5', ...keyList(keys), '0', 'e-unused', '3600000', String(window), keys.channel, 'SPUBLISH', payload, ''];
  const out = { info: { usec: [] as number[], rate: [] as number[] }, constant: { usec: [] as number[], rate: [] as number[] } };
  for (let b = 0; b < batches; b++) {
    const order = b % 2 === 0 ? (['info', 'constant'] as const) : (['constant', 'info'] as const);
    for (const which of order) {
      const args = command(shas[which]);
      const before = await commandTime(server, 'evalsha');
      const started = performance.now();
      for (let i = 0; i < calls; i++) await client.sendCommand(args);
      const seconds = (performance.now() - started) / 1000;
      const after = await commandTime(server, 'evalsha');
      out[which].usec.push((after.usec - before.usec) / (after.calls - before.calls));
      out[which].rate.push(calls / seconds);
    }
  }
  client.destroy();
  return out;
}

/** used_memory growth per session with `window` events of a ~100-byte payload each. */
async function memoryPerSession(cleanup: Cleanup, server: RedisServer, sessions: number, window: number): Promise<{ perSession: number; perEvent: number }> {
  const log = cleanup.add(createRedisFleet({ url: server.url, secret: SECRET, replayWindow: window }).log, (l) => l.close());
  await log.open();
  await server.cli('flushall');
  const before = Number(/used_memory:(\d+)/.exec(await server.cli('info', 'memory'))?.[1]);
  for (let s = 0; s < sessions; s++) {
    const id = `mem-${s}`;
    await log.createSession(id, 'bench', log.ownerOf('token'));
    const entries = Array.from({ length: window }, (_, n) => ({ event: { type: 'tick', data: { text: 'x'.repeat(64), n }, event_id: `${id}-${n}`, timestamp: 1.5e9 + n } }));
    // In bursts of 100, as the gateway would store a backlog of publishes.
    for (let n = 0; n < window; n += 100) await log.append(id, entries.slice(n, n + 100));
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
    // Redis stops last: a node or client still open when it goes would reconnect forever.
    const cleanup = createCleanup();
    const figures: Figure[] = [];
    try {
      const server = cleanup.add(await startRedis(), (s) => s.stop());
      cleanup.add(await startRedis({ replicaOf: server }), (s) => s.stop());
      const rates = { memory: [] as number[], fleet: [] as number[] };
      const lat = { memory: [] as number[], fleet: [] as number[] };
      for (let i = 0; i < rounds; i++) {
        progress(`fleet: round ${i + 1}/${rounds}, ${events} events`);
        // Latency one publish at a time (so it measures the path, not a queue the publisher piled
        // up), taken first: a throughput run leaves the gateway writing out its backlog for a while.
        // Throughput with 64 publishes in flight.
        const single = cleanup.add(await createGateway({ logger: false, rateLimit: false }), (g) => g.close());
        lat.memory.push(...(await stream(single, single, events / 10, 1)).latencies);
        rates.memory.push((await stream(single, single, events, 64)).rate);
        await single.close();
        const a = await fleetNode(cleanup, server, window);
        const b = await fleetNode(cleanup, server, window);
        // The client sits on B and the event is published on A: the path crosses Redis.
        lat.fleet.push(...(await stream(a, b, events / 10, 1)).latencies);
        rates.fleet.push((await stream(a, b, events, 64)).rate);
        await Promise.all([a.close(), b.close()]);
      }
      const ratios = pairedRatios(rates.fleet, rates.memory);
      const ratio = median(ratios);
      figures.push(
        figure('fleet', 'publish_deliver', 'memory, one node', 'events/s', 'ev/s', rates.memory),
        figure('fleet', 'publish_deliver', 'redis, A -> B', 'events/s', 'ev/s', rates.fleet),
        figure('fleet', 'publish_deliver', 'redis/memory', 'throughput ratio', 'x', ratios),
        figure('fleet', 'latency_p50', 'memory, one node', 'latency', 'ms', [quantile(lat.memory, 0.5)]),
        figure('fleet', 'latency_p50', 'redis, A -> B', 'latency', 'ms', [quantile(lat.fleet, 0.5)]),
        figure('fleet', 'latency_p99', 'memory, one node', 'latency', 'ms', [quantile(lat.memory, 0.99)]),
        figure('fleet', 'latency_p99', 'redis, A -> B', 'latency', 'ms', [quantile(lat.fleet, 0.99)]),
        figure('fleet', 'latency_p99', 'redis/memory', 'latency ratio', 'x', [quantile(lat.fleet, 0.99) / quantile(lat.memory, 0.99)]),
      );
      progress('fleet: round trips per publish');
      const a = await fleetNode(cleanup, server, window);
      const asyncTrips = await roundTrips(server, a, Math.min(events, 500));
      const burstTrips = await roundTrips(server, a, Math.min(events, 2000), 64);
      await a.close();
      const durable = await createGateway({
        logger: false,
        rateLimit: false,
        fleetReportMs: 3_600_000,
        ...createRedisFleet({ url: server.url, secret: SECRET, durability: 'replicated', replicas: 1 }),
      });
      cleanup.add(durable, (g) => g.close());
      const replicatedTrips = await roundTrips(server, durable, Math.min(events, 500));
      await durable.close();
      figures.push(
        figure('fleet', 'round_trips', 'durability async', 'commands sent per publish', 'n', [asyncTrips.perEvent]),
        figure('fleet', 'round_trips', 'durability replicated', 'commands sent per publish', 'n', [replicatedTrips.perEvent]),
        figure('fleet', 'round_trips', 'durability async', 'commandstats calls per publish (incl. inside the script)', 'n', [asyncTrips.stats]),
        figure('fleet', 'round_trips', 'async, 64 in flight', 'commands sent per publish (bursts)', 'n', [burstTrips.perEvent]),
        figure('fleet', 'round_trips', 'async, 64 in flight', 'commandstats calls per publish (bursts)', 'n', [burstTrips.stats]),
        figure('fleet', 'round_trips', 'durability replicated', 'commandstats calls per publish (incl. inside the scripts)', 'n', [replicatedTrips.stats]),
      );
      progress('fleet: cost of the run_id read in the publish script');
      const { costBatches, costCalls } = CONFIG[scale];
      const cost = await runIdCost(cleanup, server, costBatches, costCalls, window);
      figures.push(
        figure('fleet', 'run_id_read', 'script with INFO server', 'server time per publish script', 'us', cost.info.usec),
        figure('fleet', 'run_id_read', 'script, run_id constant', 'server time per publish script', 'us', cost.constant.usec),
        figure('fleet', 'run_id_read', 'with/without', 'server time ratio', 'x', pairedRatios(cost.info.usec, cost.constant.usec)),
        figure('fleet', 'run_id_read', 'with/without', 'awaited publishes/s ratio', 'x', pairedRatios(cost.info.rate, cost.constant.rate)),
      );
      progress(`fleet: Redis memory, ${sessions} sessions x ${window} events`);
      const memory = await memoryPerSession(cleanup, server, sessions, window);
      figures.push(
        figure('fleet', `memory_window_${window}`, 'redis', 'bytes per session', 'B', [memory.perSession]),
        figure('fleet', `memory_window_${window}`, 'redis', 'bytes per event', 'B', [memory.perEvent]),
      );
      return {
        figures,
        targets: [
          { bench: 'fleet', case: 'round_trips', target: 'exactly 1 command per publish (async)', value: asyncTrips.perEvent, met: asyncTrips.perEvent === 1 },
          { bench: 'fleet', case: 'publish_deliver', target: 'redis/memory throughput ratio >= 0.4 (median of paired ratios)', value: ratio, met: ratio >= 0.4 },
        ],
        notes: [
          'publish_deliver: 64 publishes in flight (latency: one at a time, events/10 per round); the client is joined on node B and every event is published on node A, so each crosses Redis (EVALSHA, SPUBLISH to B, B delivers); the baseline is one memory gateway delivering its own publishes',
          'round trips: commands the publishing node sent, counted with MONITOR (commands run inside the script are tagged lua and not counted); commandstats counts the script-internal ones too. replicated: append script, WAIT, confirm script, each awaited in turn. 64 in flight: the publishes that queue for the session meanwhile go as one burst (one EVALSHA)',
          'run_id_read: the publish script as shipped against the same script with the run_id as a constant, alternating batches of awaited EVALSHAs on one connection; server time from commandstats usec per EVALSHA',
          'memory: used_memory growth per session with a full window of events of a 64-character text payload, plus meta and owner',
        ],
      };
    } finally {
      await cleanup.run();
    }
  },
};
