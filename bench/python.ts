// Python client throughput: the same blaster as `throughput`, read by the Python client
// (clients/python, every event through `async for … in client.events()`) and by a raw
// `websockets` loop doing recv() + json.loads and a type check. Each run is its own Python process
// (bench/procs/python_throughput.py); runs alternate raw/lifeline then lifeline/raw, and every
// ratio is lifeline / raw of the same pair.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findPython } from '../test/support/system.js';
import { figure, type Bench, type BenchResult, type Scale } from './lib/report.js';
import { num, startProc } from './lib/proc.js';
import { median, pairedRatios } from './lib/stats.js';

const CONFIG: Record<Scale, { n: number; pairs: number }> = {
  full: { n: 100_000, pairs: 7 },
  smoke: { n: 2_000, pairs: 1 },
};

const TARGET = 0.7;
const SCRIPT = fileURLToPath(new URL('./procs/python_throughput.py', import.meta.url));

function run(python: string, kind: 'raw' | 'lifeline', url: string, n: number): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(python, [SCRIPT, kind, url, String(n)], { timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${kind} run failed: ${error.message}\n${stderr}`));
      const eps = (JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { eps?: unknown }).eps;
      if (typeof eps !== 'number') return reject(new Error(`${kind} run printed no eps: ${stdout}`));
      resolve(eps);
    });
  });
}

export const python: Bench = {
  name: 'python',
  title: 'events/s into one Python client, blaster server (client-bound)',
  async run(scale, progress): Promise<BenchResult> {
    const { n, pairs } = CONFIG[scale];
    const found = findPython();
    if (!('python' in found)) throw new Error(`python bench: ${found.problem}`);
    const blaster = await startProc('blaster');
    try {
      blaster.proc.send({ type: 'prepare', n, batchN: 1 });
      await blaster.proc.next('prepared', 60_000);
      const url = `ws://127.0.0.1:${num(blaster.ready, 'port')}/live?n=${n}`;
      const runs = { raw: [] as number[], lifeline: [] as number[] };
      progress(`python: ${pairs} pairs of ${n} events`);
      for (let i = 0; i < pairs; i++) {
        const order = i % 2 === 0 ? (['raw', 'lifeline'] as const) : (['lifeline', 'raw'] as const);
        for (const kind of order) runs[kind].push(await run(found.python, kind, url, n));
      }
      const ratios = pairedRatios(runs.lifeline, runs.raw);
      const b = 'python';
      return {
        figures: [
          figure(b, 'live', 'websockets+json.loads', 'events/s', 'ev/s', runs.raw),
          figure(b, 'live', 'lifeline_client', 'events/s', 'ev/s', runs.lifeline),
          figure(b, 'live', 'lifeline_client/websockets', 'ratio', 'x', ratios),
        ],
        targets: [{ bench: b, case: 'live', target: `lifeline_client/websockets ratio >= ${TARGET}`, value: median(ratios), met: median(ratios) >= TARGET }],
        notes: [`live: ${n} events of ~72 bytes per run, each run a fresh ${found.python} process; ${pairs} alternating pairs; lifeline_client reads with async for over events()`],
      };
    } finally {
      await blaster.proc.kill();
    }
  },
};
