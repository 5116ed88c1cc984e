// The shrinker: cut a failing fault schedule down to a minimal one that still fails the same way
// (delta debugging over the list of faults), then render it in the stories' timeline format.
// Only the schedule changes between tries: the rest of the world draws from the same seed.
import { formatEntry } from '../../stories/support/timeline.js';
import { describeFault, type Fault } from './faults.js';
import { runSim, type SimOptions, type SimReport } from './run.js';

/** A violation without its numbers: "the same failure" across shrink steps. */
export function signature(violation: string): string {
  return violation
    .replace(/^t=\d+ms: /, '')
    .replace(/\be\d+\b/g, 'e#')
    .replace(/\d+/g, '#');
}

/** The result of a shrink. */
export interface Shrunk {
  readonly schedule: readonly Fault[];
  /** The run of the minimal schedule, with its trace. */
  readonly report: SimReport;
  /** Simulation runs the shrink took. */
  readonly runs: number;
}

/**
 * Shrink `failing` (a report with violations) to a smallest schedule that still shows one of its
 * violations, trying at most `maxRuns` runs.
 */
export async function shrink(options: SimOptions, failing: SimReport, maxRuns = 300, log: (line: string) => void = () => undefined): Promise<Shrunk> {
  const wanted = new Set(failing.violations.map(signature));
  const fails = (r: SimReport): boolean => r.violations.some((v) => wanted.has(signature(v)));
  let current: readonly Fault[] = failing.schedule;
  let runs = 0;
  const attempt = async (schedule: readonly Fault[]): Promise<boolean> => {
    runs++;
    return fails(await runSim({ ...options, schedule, stopAtViolation: true }));
  };
  // Perhaps no fault is needed at all.
  if (await attempt([])) current = [];
  let n = 2;
  while (current.length >= 1 && runs < maxRuns) {
    const chunk = Math.max(1, Math.ceil(current.length / n));
    let reduced = false;
    for (let i = 0; i < current.length && runs < maxRuns; i += chunk) {
      const candidate = [...current.slice(0, i), ...current.slice(i + chunk)];
      if (await attempt(candidate)) {
        current = candidate;
        n = Math.max(n - 1, 2);
        reduced = true;
        log(`  shrunk to ${current.length} faults (${runs} runs)`);
        break;
      }
    }
    if (!reduced) {
      if (chunk === 1) break;
      n = Math.min(current.length, n * 2);
    }
  }
  const report = await runSim({ ...options, schedule: current, world: { ...options.world, trace: true } });
  return { schedule: current, report, runs };
}

/**
 * The minimal schedule and the end of its run, as timeline lines: faults, the gateway, the
 * checks, and the clients the violations name.
 */
export function formatShrunk(shrunk: Shrunk, tail = 60): string {
  const faults = shrunk.schedule.map((f) => formatEntry({ kind: 'step', at: f.at, text: describeFault(f) }));
  const named = new Set(shrunk.report.violations.flatMap((v) => [...v.matchAll(/client (\d+)/g)].map((m) => `c${m[1] ?? ''} `)));
  const trace = shrunk.report.trace.filter((line) => !/ c\d+ /.test(line) || [...named].some((c) => line.includes(` ${c}`)));
  const firstViolation = trace.findIndex((line) => line.includes('VIOLATION'));
  const end = firstViolation < 0 ? trace.length : firstViolation + 5;
  return [
    `minimal schedule: ${shrunk.schedule.length} faults (found in ${shrunk.runs} runs)`,
    ...faults,
    `last ${tail} lines of its run, up to the first violation:`,
    ...trace.slice(Math.max(0, end - tail), end),
  ].join('\n');
}
