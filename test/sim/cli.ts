// `npm run sim`: run the deterministic simulation over many seeds, or replay one.
//   npm run sim -- --seeds 1000            1000 seeds from a random base (printed)
//   npm run sim -- --seeds 200 --from 1    seeds 1..200
//   npm run sim -- --seed 42 --trace       replay seed 42 and print its timeline
//   npm run sim -- --seed 42 --shrink      cut seed 42's schedule to a minimal failing one
//   --faults N (default 400), --clients N (default 4), --mutation NAME (a bug of mutations.ts),
//   --http (clients that fall back to HTTP, and the HTTP transport's faults)
import { parseArgs } from 'node:util';
import { randomSeed } from '../chaos/prng.js';
import { isMutation, MUTATIONS, type Mutation } from './mutations.js';
import { replayCommand, runSim, type SimOptions, type SimReport } from './run.js';
import { formatShrunk, shrink } from './shrink.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100' },
    from: { type: 'string' },
    seed: { type: 'string' },
    faults: { type: 'string', default: '400' },
    clients: { type: 'string' },
    trace: { type: 'boolean', default: false },
    shrink: { type: 'boolean', default: false },
    mutation: { type: 'string' },
    http: { type: 'boolean', default: false },
  },
});

function parseMutation(name: string | undefined): Mutation | undefined {
  if (name === undefined || isMutation(name)) return name;
  throw new Error(`--mutation must be one of ${Object.keys(MUTATIONS).join(', ')}`);
}

const mutation = parseMutation(values.mutation);

const faults = Number(values.faults);
const world = { ...(values.clients === undefined ? {} : { clients: Number(values.clients) }), ...(values.http ? { http: true } : {}) };
const optionsFor = (seed: number): SimOptions => ({ seed, faults, world, ...(mutation === undefined ? {} : { mutation }) });

function summary(r: SimReport): string {
  const kinds = Object.entries(r.byKind)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    `seed ${r.seed}: ${r.faults} faults (${kinds})`,
    `  ${(r.virtualMs / 1000).toFixed(1)} virtual s in ${r.steps} steps; ${r.connects} connection attempts; joins ${JSON.stringify(r.transports.joins)}, ${r.transports.toHttp} moves to HTTP, ${r.transports.toWebsocket} back to WebSocket`,
    `  events: ${r.published} published, ${r.delivered} delivered, ${r.gaps} gaps signalled; messages: ${r.messages.sent} sent, ${r.messages.applied} applied`,
    `  client errors: ${JSON.stringify(r.clientErrors)}; hostile clients: ${r.hostileClients.refused}/${r.hostileClients.sent} refused`,
    ...(r.http.streams + r.http.posts > 0 ? [`  http: ${JSON.stringify(r.http)}`] : []),
    `  violations: ${r.violations.length === 0 ? 'none' : `\n    ${r.violations.join('\n    ')}`}`,
  ].join('\n');
}

async function one(seed: number): Promise<number> {
  const options = optionsFor(seed);
  const report = await runSim({ ...options, world: { ...world, trace: values.trace } });
  if (values.trace) console.log(report.trace.join('\n'));
  console.log(summary(report));
  if (report.violations.length > 0 && values.shrink) {
    console.log('shrinking...');
    console.log(formatShrunk(await shrink(options, report, 300, (line) => console.log(line))));
  }
  return report.violations.length > 0 ? 1 : 0;
}

async function many(): Promise<number> {
  const count = Number(values.seeds);
  const from = values.from === undefined ? randomSeed() % 1_000_000_000 : Number(values.from);
  console.log(`seeds ${from}..${from + count - 1}, ${faults} faults each`);
  const started = performance.now();
  let total = 0;
  let steps = 0;
  const failed: SimReport[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const report = await runSim(optionsFor(seed));
    total += report.faults;
    steps += report.steps;
    if (report.violations.length > 0) {
      failed.push(report);
      console.log(`seed ${seed} FAILED: ${report.violations[0]}\n  replay: ${replayCommand(seed, { faults, ...(mutation === undefined ? {} : { mutation }) })}`);
    }
    if ((seed - from + 1) % 50 === 0) console.log(`  ${seed - from + 1} seeds, ${total} faults, ${failed.length} failed`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${count} seeds, ${total} faults, ${steps} steps in ${seconds.toFixed(1)} s (${Math.round(total / seconds)} faults/s); ${failed.length} failed`);
  const first = failed[0];
  if (first !== undefined && values.shrink) console.log(formatShrunk(await shrink(optionsFor(first.seed), first, 300, (line) => console.log(line))));
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = values.seed === undefined ? await many() : await one(Number(values.seed));
