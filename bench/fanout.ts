// Gateway fan-out: events/s the reference gateway delivers to 1, 100 and 1000 joined clients of
// one session, against a bare `ws` server broadcasting the same frames, one frame per event, and
// (to separate the gateway's own cost from its v2 batching) the same frames in batches of 256. The clients are thin
// counting `ws` sockets in their own process, so the server is what is measured. Every run has
// fresh processes; the order of the three rotates from one round to the next.
// Latency: publish->deliver for one client, events published one at a time a few ms apart, each
// once the one before arrived (so it measures the path, per-tick coalescing included, not a
// queue), against the bare server's one send per event. The client runs in the server's process,
// so both ends read one clock.
import { figure, type Bench, type BenchResult, type Figure, type Scale, type Target } from './lib/report.js';
import { num, numList, startProc } from './lib/proc.js';
import { median, pairedRatios, quantile } from './lib/stats.js';

/** Clients and events per run: about 100-200k deliveries each, so no run is over in a few ms. */
const CONFIG: Record<Scale, { cases: Array<{ clients: number; events: number }>; rounds: number; latency: { events: number; gapMs: number } }> = {
  full: {
    cases: [
      { clients: 1, events: 100_000 },
      { clients: 100, events: 2_000 },
      { clients: 1000, events: 200 },
    ],
    rounds: 3,
    latency: { events: 1000, gapMs: 2 },
  },
  smoke: { cases: [{ clients: 10, events: 50 }], rounds: 1, latency: { events: 20, gapMs: 2 } },
};

/** The goals for gateway / batched broadcast (#20 item 2), by clients. */
const TARGETS: Readonly<Record<number, number>> = { 1: 0.5, 100: 0.8, 1000: 0.8 };

/** Deliveries per second are counted from the first publish to the last client having all events. */
type Mode = 'gateway' | 'ws' | 'ws-batch';
const MODES: readonly Mode[] = ['ws', 'ws-batch', 'gateway'];

/** One run: deliveries/s, and the server's CPU time per 1000 deliveries (ms), what it costs whatever else shares the cores. */
async function once(mode: Mode, clients: number, events: number): Promise<{ rate: number; cpu: number }> {
  const server = await startProc('fanout-server', [mode]);
  const url = `ws://127.0.0.1:${num(server.ready, 'port')}`;
  const population = await startProc('fanout-clients', [mode, url, String(clients), String(events)]);
  try {
    await population.proc.next('joined', 60_000);
    server.proc.send({ type: 'start', m: events });
    const started = await server.proc.next('started', 10_000);
    const done = await population.proc.next('done', 120_000);
    server.proc.send({ type: 'cpu' });
    const cpu = num(await server.proc.next('cpu', 10_000), 'us') / 1000;
    return { rate: (clients * events * 1000) / (num(done, 'at') - num(started, 'at')), cpu: (cpu * 1000) / (clients * events) };
  } finally {
    await Promise.all([server.proc.kill(), population.proc.kill()]);
  }
}

/** One latency run: ms from each publish to its arrival at a client in the server's own process. */
async function latencyOnce(mode: 'gateway' | 'ws', events: number, gapMs: number): Promise<number[]> {
  const server = await startProc('fanout-server', [mode]);
  try {
    server.proc.send({ type: 'latency', m: events, gapMs });
    return numList(await server.proc.next('latency', 120_000), 'ms');
  } finally {
    await server.proc.kill();
  }
}

export const fanout: Bench = {
  name: 'fanout',
  title: 'gateway fan-out: deliveries/s to N joined clients vs a bare ws broadcast',
  async run(scale, progress): Promise<BenchResult> {
    const { cases, rounds, latency } = CONFIG[scale];
    const figures: Figure[] = [];
    const targets: Target[] = [];
    for (const { clients, events } of cases) {
      const runs: Record<Mode, number[]> = { ws: [], 'ws-batch': [], gateway: [] };
      const cpu: Record<Mode, number[]> = { ws: [], 'ws-batch': [], gateway: [] };
      for (let i = 0; i < rounds; i++) {
        progress(`fanout: ${clients} clients x ${events} events, round ${i + 1}/${rounds}`);
        const order = MODES.map((_, j) => MODES[(i + j) % MODES.length] as Mode);
        for (const mode of order) {
          const run = await once(mode, clients, events);
          runs[mode].push(run.rate);
          cpu[mode].push(run.cpu);
        }
      }
      const kase = `clients_${clients}`;
      const batched = pairedRatios(runs.gateway, runs['ws-batch']);
      figures.push(
        figure('fanout', kase, 'bare ws broadcast', 'deliveries/s', 'ev/s', runs.ws),
        figure('fanout', kase, 'bare ws broadcast, batches of 256', 'deliveries/s', 'ev/s', runs['ws-batch']),
        figure('fanout', kase, 'lifeline gateway', 'deliveries/s', 'ev/s', runs.gateway),
        figure('fanout', kase, 'gateway/ws', 'ratio', 'x', pairedRatios(runs.gateway, runs.ws)),
        figure('fanout', kase, 'gateway/ws batched', 'ratio', 'x', batched),
        figure('fanout', kase, 'bare ws broadcast, batches of 256', 'server CPU per 1000 deliveries', 'ms', cpu['ws-batch']),
        figure('fanout', kase, 'lifeline gateway', 'server CPU per 1000 deliveries', 'ms', cpu.gateway),
        figure('fanout', kase, 'gateway/ws batched', 'server CPU ratio', 'x', pairedRatios(cpu.gateway, cpu['ws-batch'])),
      );
      const goal = TARGETS[clients];
      if (goal !== undefined) targets.push({ bench: 'fanout', case: kase, target: `gateway/ws batched ratio >= ${goal}`, value: median(batched), met: median(batched) >= goal });
    }
    // p50 and p99 of each round, alternating which side goes first.
    const lat = { gateway: { p50: [] as number[], p99: [] as number[] }, ws: { p50: [] as number[], p99: [] as number[] } };
    for (let i = 0; i < rounds; i++) {
      progress(`fanout: latency, 1 client x ${latency.events} events ${latency.gapMs} ms apart, round ${i + 1}/${rounds}`);
      const order = i % 2 === 0 ? (['gateway', 'ws'] as const) : (['ws', 'gateway'] as const);
      for (const mode of order) {
        const samples = await latencyOnce(mode, latency.events, latency.gapMs);
        lat[mode].p50.push(quantile(samples, 0.5));
        lat[mode].p99.push(quantile(samples, 0.99));
      }
    }
    figures.push(
      figure('fanout', 'latency_1_client', 'lifeline gateway', 'publish->deliver p50', 'ms', lat.gateway.p50),
      figure('fanout', 'latency_1_client', 'lifeline gateway', 'publish->deliver p99', 'ms', lat.gateway.p99),
      figure('fanout', 'latency_1_client', 'bare ws, one send per event', 'publish->deliver p50', 'ms', lat.ws.p50),
      figure('fanout', 'latency_1_client', 'bare ws, one send per event', 'publish->deliver p99', 'ms', lat.ws.p99),
    );
    return {
      figures,
      targets,
      notes: [
        'deliveries/s = clients x events / (last client done - first publish); the gateway publishes through its log and session queue and batches live events per tick under v2; the bare server sends one frame per event per socket',
        'server CPU = user + system time of the server process from the first publish to the last client done (the client process shares the cores, so this is the cost that does not depend on it)',
        `latency: ${latency.events} events published one at a time, ${latency.gapMs} ms apart and each once the one before arrived, to one client in the server's process (one clock); p50 and p99 per round`,
      ],
    };
  },
};
