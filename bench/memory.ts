// Memory: RSS and heap per idle joined client, 1000 clients in one process, Lifeline against bare
// `ws` clients doing the same handshake, and the client's chart alone (the floor of any client
// built on it). Each run is a fresh process (so heaps do not mix), the order rotates each round,
// and each ratio is taken within a round.
import { figure, type Bench, type BenchResult, type Scale } from './lib/report.js';
import { num, startProc } from './lib/proc.js';
import { median, pairedRatios } from './lib/stats.js';

const CONFIG: Record<Scale, { clients: number; pairs: number }> = {
  full: { clients: 1000, pairs: 3 },
  // Enough clients that RSS moves by whole pages even for bare ws (20 sometimes moved it by 0).
  smoke: { clients: 200, pairs: 1 },
};
/** Issue #20: RSS at most 1.6x a bare `ws` client, heap+external at most 3x. */
const RSS_TARGET = 1.6;
const HEAP_TARGET = 3;

type Kind = 'ws' | 'lifeline' | 'chart';
const ROTATION: readonly Kind[] = ['ws', 'lifeline', 'chart'];

async function measure(kind: Kind, url: string, clients: number): Promise<{ rss: number; heap: number }> {
  const run = await startProc('memory-clients', [kind, url, String(clients)], { execArgv: ['--expose-gc'], readyTimeoutMs: 90_000 });
  await run.proc.kill();
  return { rss: num(run.ready, 'rssPerClient') / 1024, heap: num(run.ready, 'heapPerClient') / 1024 };
}

export const memory: Bench = {
  name: 'memory',
  title: 'memory per idle joined client (1000 in one process)',
  async run(scale, progress): Promise<BenchResult> {
    const { clients, pairs } = CONFIG[scale];
    const gateway = await startProc('servers', ['0', '0', '0', '1']);
    const url = `ws://127.0.0.1:${num(gateway.ready, 'gatewayPort')}`;
    const runs: Record<Kind, Array<{ rss: number; heap: number }>> = { ws: [], lifeline: [], chart: [] };
    try {
      for (let i = 0; i < pairs; i++) {
        progress(`memory: round ${i + 1}/${pairs}, ${clients} clients each`);
        const order = ROTATION.map((_, k) => ROTATION[(i + k) % ROTATION.length] as Kind);
        for (const kind of order) runs[kind].push(await measure(kind, url, clients));
      }
    } finally {
      await gateway.proc.kill();
    }
    const b = 'memory';
    const kase = `clients_${clients}`;
    const rssRatios = pairedRatios(runs.lifeline.map((r) => r.rss), runs.ws.map((r) => r.rss));
    const heapRatios = pairedRatios(runs.lifeline.map((r) => r.heap), runs.ws.map((r) => r.heap));
    // The floor: the chart of a joined client plus the socket a bare ws client holds.
    const floorRatios = pairedRatios(runs.chart.map((r, i) => r.heap + (runs.ws[i]?.heap ?? 0)), runs.ws.map((r) => r.heap));
    return {
      figures: [
        figure(b, kase, 'ws', 'RSS per client', 'KiB', runs.ws.map((r) => r.rss)),
        figure(b, kase, 'lifeline', 'RSS per client', 'KiB', runs.lifeline.map((r) => r.rss)),
        figure(b, kase, 'lifeline/ws', 'RSS ratio', 'x', rssRatios),
        figure(b, kase, 'ws', 'heap+external per client', 'KiB', runs.ws.map((r) => r.heap)),
        figure(b, kase, 'lifeline', 'heap+external per client', 'KiB', runs.lifeline.map((r) => r.heap)),
        figure(b, kase, 'lifeline/ws', 'heap ratio', 'x', heapRatios),
        figure(b, kase, 'chart', 'heap+external per client', 'KiB', runs.chart.map((r) => r.heap)),
        figure(b, kase, '(chart + ws)/ws', 'heap ratio', 'x', floorRatios),
      ],
      targets: [
        { bench: b, case: kase, target: `RSS ratio <= ${RSS_TARGET}`, value: median(rssRatios), met: median(rssRatios) <= RSS_TARGET },
        { bench: b, case: kase, target: `heap ratio <= ${HEAP_TARGET}`, value: median(heapRatios), met: median(heapRatios) <= HEAP_TARGET },
      ],
      notes: [
        `each run a fresh process with --expose-gc; per client = (after - before) / ${clients}, measured after forced GCs, idle 0.5 s after all joined`,
        'chart: the client\'s XState chart alone in joined.live (its socket actor inert, no socket); (chart + ws)/ws is the floor of a client built on this chart over a ws socket',
      ],
    };
  },
};
