// Many seeds in one go, for the CI tests: the figures, and a failure message per broken seed
// that names the seed and the command replaying it.
import { replayCommand, runSim } from './run.js';

/** Totals over a run of seeds. */
export interface SeedsResult {
  readonly seeds: number;
  readonly faults: number;
  readonly steps: number;
  readonly delivered: number;
  readonly gaps: number;
  readonly messagesApplied: number;
  readonly connects: number;
  readonly peakAttemptsPerSecond: number;
  readonly cpuSeconds: number;
  /** One paragraph per failing seed: its replay command and violations. */
  readonly failures: readonly string[];
}

/** Run seeds `from .. from + count - 1` with `faults` faults each. */
export async function runSeeds(from: number, count: number, faults: number): Promise<SeedsResult> {
  const cpu = process.cpuUsage();
  const failures: string[] = [];
  let total = { faults: 0, steps: 0, delivered: 0, gaps: 0, messagesApplied: 0, connects: 0, peak: 0 };
  for (let seed = from; seed < from + count; seed++) {
    const r = await runSim({ seed, faults });
    total = {
      faults: total.faults + r.faults,
      steps: total.steps + r.steps,
      delivered: total.delivered + r.delivered,
      gaps: total.gaps + r.gaps,
      messagesApplied: total.messagesApplied + r.messages.applied,
      connects: total.connects + r.connects,
      peak: Math.max(total.peak, r.peakAttemptsPerSecond),
    };
    if (r.violations.length > 0) failures.push(`seed ${seed}: replay with \`${replayCommand(seed, { faults })}\`\n  ${r.violations.slice(0, 8).join('\n  ')}`);
  }
  const used = process.cpuUsage(cpu);
  return {
    seeds: count,
    faults: total.faults,
    steps: total.steps,
    delivered: total.delivered,
    gaps: total.gaps,
    messagesApplied: total.messagesApplied,
    connects: total.connects,
    peakAttemptsPerSecond: total.peak,
    cpuSeconds: (used.user + used.system) / 1e6,
    failures,
  };
}

/** One line of figures, for the test log. */
export function describeSeeds(r: SeedsResult): string {
  return `${r.seeds} seeds, ${r.faults} faults, ${r.steps} steps in ${r.cpuSeconds.toFixed(1)} CPU s (${Math.round(r.faults / r.cpuSeconds)} faults per CPU s); ${r.delivered} events delivered, ${r.gaps} gaps, ${r.messagesApplied} messages applied, ${r.connects} connects (peak ${r.peakAttemptsPerSecond}/s); ${r.failures.length} seeds failed`;
}
