// `npm run soak -- --minutes N --seed S`: the chaos engine for minutes instead of a fault budget.
// `--fleet` soaks a fleet of gateway processes on Redis instead (test/fleet/fleet-soak.ts).
// Prints progress and the figures; exits 1 on any violation, with the seed to replay it.
import { runFleetSoak } from '../fleet/fleet-soak.js';
import { formatReport, runChaos } from './engine.js';
import { randomSeed } from './prng.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function numberArg(name: string, fallback: number): number {
  const raw = arg(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`--${name} must be a non-negative number, got ${raw}`);
    process.exit(2);
  }
  return value;
}

const minutes = numberArg('minutes', 5);
const seed = numberArg('seed', randomSeed()) >>> 0;
const clients = numberArg('clients', 6);

if (process.argv.includes('--fleet')) {
  console.log(`fleet soak: ${minutes} min, ${clients} clients, 3 nodes, seed ${seed} (replay with --fleet --seed ${seed})`);
  const violations = await runFleetSoak({ minutes, seed, clients, log: (line) => console.log(line) });
  for (const v of violations) console.error(v);
  if (violations.length > 0) {
    console.error(`fleet soak FAILED; replay with: npm run soak -- --fleet --minutes ${minutes} --seed ${seed}`);
    process.exit(1);
  }
  console.log('fleet soak passed: nothing lost outside a signalled gap, no duplicates, every message acknowledged and applied once (none applied twice or acknowledged while applied nowhere), no (epoch, seq) reused');
  process.exit(0);
}
console.log(`soak: ${minutes} min, ${clients} clients, seed ${seed} (replay with --seed ${seed})`);
const report = await runChaos({ seed, clients, durationMs: minutes * 60_000, settleMs: 30_000, log: (line) => console.log(line) });
console.log(formatReport(report));
if (report.violations.length > 0) {
  console.error(`soak FAILED; replay with: npm run soak -- --minutes ${minutes} --seed ${seed}`);
  process.exit(1);
}
process.exit(0);
