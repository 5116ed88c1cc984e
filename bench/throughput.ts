// Throughput: the client is the bottleneck. A blaster process writes pre-encoded frames; a raw
// `ws` client and a Lifeline client (each in its own long-lived process, warmed up once) take
// turns, ABAB then BABA, and every ratio is lifeline / ws of the same pair of runs.
import { figure, type Bench, type BenchResult, type Scale } from './lib/report.js';
import { num, startProc, type Proc } from './lib/proc.js';
import { median, pairedRatios } from './lib/stats.js';

const CONFIG: Record<Scale, { n: number; batchN: number; pairs: number }> = {
  full: { n: 200_000, batchN: 100_000, pairs: 7 },
  smoke: { n: 2_000, batchN: 1_000, pairs: 1 },
};

const TARGET = 0.65;

async function once(proc: Proc, kind: string, url: string, n: number): Promise<number> {
  proc.send({ type: 'run', kind, url, n, timeoutMs: 120_000 });
  const result = await proc.next('result', 130_000);
  return num(result, 'eps');
}

/** Alternating pairs: even pairs run ws first, odd pairs lifeline first, so drift hits both. */
async function alternate(procs: { ws: Proc; lifeline: Proc }, url: string, n: number, pairs: number): Promise<{ ws: number[]; lifeline: number[] }> {
  const out = { ws: [] as number[], lifeline: [] as number[] };
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? (['ws', 'lifeline'] as const) : (['lifeline', 'ws'] as const);
    for (const kind of order) out[kind].push(await once(procs[kind], kind, url, n));
  }
  return out;
}

export const throughput: Bench = {
  name: 'throughput',
  title: 'events/s into one client, blaster server (client-bound)',
  async run(scale, progress): Promise<BenchResult> {
    const { n, batchN, pairs } = CONFIG[scale];
    const blaster = await startProc('blaster');
    const procs = {
      ws: (await startProc('throughput-client')).proc,
      lifeline: (await startProc('throughput-client')).proc,
    };
    try {
      const port = num(blaster.ready, 'port');
      blaster.proc.send({ type: 'prepare', n, batchN });
      await blaster.proc.next('prepared', 60_000);
      const live = `ws://127.0.0.1:${port}/live?n=${n}`;
      const batch = `ws://127.0.0.1:${port}/batch?n=${batchN}`;
      // Warm-up (JIT, first allocations), not counted.
      await alternate(procs, live, Math.min(n, 50_000), 1);
      progress(`throughput: live, ${pairs} pairs of ${n} events`);
      const liveRuns = await alternate(procs, live, n, pairs);
      progress(`throughput: batch replay, ${pairs} pairs of ${batchN} events`);
      const batchRuns = await alternate(procs, batch, batchN, pairs);
      const liveRatios = pairedRatios(liveRuns.lifeline, liveRuns.ws);
      const batchRatios = pairedRatios(batchRuns.lifeline, batchRuns.ws);
      const b = 'throughput';
      return {
        figures: [
          figure(b, 'live', 'ws+JSON.parse', 'events/s', 'ev/s', liveRuns.ws),
          figure(b, 'live', 'lifeline', 'events/s', 'ev/s', liveRuns.lifeline),
          figure(b, 'live', 'lifeline/ws', 'ratio', 'x', liveRatios),
          figure(b, 'batch_replay', 'ws+JSON.parse', 'events/s', 'ev/s', batchRuns.ws),
          figure(b, 'batch_replay', 'lifeline', 'events/s', 'ev/s', batchRuns.lifeline),
          figure(b, 'batch_replay', 'lifeline/ws', 'ratio', 'x', batchRatios),
        ],
        targets: [{ bench: b, case: 'live', target: `lifeline/ws ratio >= ${TARGET}`, value: median(liveRatios), met: median(liveRatios) >= TARGET }],
        notes: [`live: ${n} events of ~72 bytes; batch_replay: ${batchN} replay events in v2 batches of 256; ${pairs} alternating pairs after one warm-up pair`],
      };
    } finally {
      await Promise.all([blaster.proc.kill(), procs.ws.kill(), procs.lifeline.kill()]);
    }
  },
};
