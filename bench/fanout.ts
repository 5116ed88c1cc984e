// Gateway fan-out: events/s the reference gateway delivers to 1, 100 and 1000 joined clients of
// one session, against a bare `ws` server broadcasting the same frames, one frame per event, and
// (to separate the gateway's own cost from its v2 batching) the same frames in batches of 256. The clients are thin
// counting `ws` sockets in their own process, so the server is what is measured. Every run has
// fresh processes; the order of the three rotates from one round to the next.
import { figure, type Bench, type BenchResult, type Figure, type Scale } from './lib/report.js';
import { num, startProc } from './lib/proc.js';
import { pairedRatios } from './lib/stats.js';

/** Clients and events per run: about 100-200k deliveries each, so no run is over in a few ms. */
const CONFIG: Record<Scale, { cases: Array<{ clients: number; events: number }>; rounds: number }> = {
  full: {
    cases: [
      { clients: 1, events: 100_000 },
      { clients: 100, events: 2_000 },
      { clients: 1000, events: 200 },
    ],
    rounds: 3,
  },
  smoke: { cases: [{ clients: 10, events: 50 }], rounds: 1 },
};

/** One run: deliveries per second, from the first publish to the last client having all events. */
type Mode = 'gateway' | 'ws' | 'ws-batch';
const MODES: readonly Mode[] = ['ws', 'ws-batch', 'gateway'];

async function once(mode: Mode, clients: number, events: number): Promise<number> {
  const server = await startProc('fanout-server', [mode]);
  const url = `ws://127.0.0.1:${num(server.ready, 'port')}`;
  const population = await startProc('fanout-clients', [mode, url, String(clients), String(events)]);
  try {
    await population.proc.next('joined', 60_000);
    server.proc.send({ type: 'start', m: events });
    const started = await server.proc.next('started', 10_000);
    const done = await population.proc.next('done', 120_000);
    return (clients * events * 1000) / (num(done, 'at') - num(started, 'at'));
  } finally {
    await Promise.all([server.proc.kill(), population.proc.kill()]);
  }
}

export const fanout: Bench = {
  name: 'fanout',
  title: 'gateway fan-out: deliveries/s to N joined clients vs a bare ws broadcast',
  async run(scale, progress): Promise<BenchResult> {
    const { cases, rounds } = CONFIG[scale];
    const figures: Figure[] = [];
    for (const { clients, events } of cases) {
      const runs: Record<Mode, number[]> = { ws: [], 'ws-batch': [], gateway: [] };
      for (let i = 0; i < rounds; i++) {
        progress(`fanout: ${clients} clients x ${events} events, round ${i + 1}/${rounds}`);
        const order = MODES.map((_, j) => MODES[(i + j) % MODES.length] as Mode);
        for (const mode of order) runs[mode].push(await once(mode, clients, events));
      }
      const kase = `clients_${clients}`;
      figures.push(
        figure('fanout', kase, 'bare ws broadcast', 'deliveries/s', 'ev/s', runs.ws),
        figure('fanout', kase, 'bare ws broadcast, batches of 256', 'deliveries/s', 'ev/s', runs['ws-batch']),
        figure('fanout', kase, 'lifeline gateway', 'deliveries/s', 'ev/s', runs.gateway),
        figure('fanout', kase, 'gateway/ws', 'ratio', 'x', pairedRatios(runs.gateway, runs.ws)),
        figure('fanout', kase, 'gateway/ws batched', 'ratio', 'x', pairedRatios(runs.gateway, runs['ws-batch'])),
      );
    }
    return {
      figures,
      targets: [],
      notes: [
        'deliveries/s = clients x events / (last client done - first publish); the gateway publishes through its log and session queue and batches live events per tick under v2; the bare server sends one frame per event per socket',
      ],
    };
  },
};
