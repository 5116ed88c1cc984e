// The deterministic simulation in CI: the real gateway and clients on a simulated network and
// clock (test/sim/), many seeds, every invariant checked as it runs and at the end. A failure
// names its seed and the command that replays it (docs/simulation.md).
import { describe, expect, it } from 'vitest';
import { replayCommand, runSim, type SimReport } from './run.js';

/** Seeds run here; `SIM_SEED_BASE` moves the window (the CLI explores far more). */
const BASE = Number(process.env['SIM_SEED_BASE'] ?? 1);
const SEEDS = 24;
const FAULTS = 400;

function verdict(report: SimReport): string {
  return report.violations.length === 0 ? '' : `seed ${report.seed}: replay with \`${replayCommand(report.seed, { faults: FAULTS })}\`\n  ${report.violations.join('\n  ')}`;
}

describe('simulation: the real client and gateway under seeded faults', () => {
  it(`keeps every invariant across ${SEEDS} seeds of ${FAULTS} faults`, { timeout: 120_000 }, async () => {
    const failures: string[] = [];
    let faults = 0;
    let delivered = 0;
    for (let seed = BASE; seed < BASE + SEEDS; seed++) {
      const report = await runSim({ seed, faults: FAULTS });
      faults += report.faults;
      delivered += report.delivered;
      if (report.violations.length > 0) failures.push(verdict(report));
    }
    expect(failures.join('\n')).toBe('');
    expect(faults).toBe(SEEDS * FAULTS);
    expect(delivered).toBeGreaterThan(0);
  });

  it('replays one seed byte for byte', { timeout: 30_000 }, async () => {
    const first = await runSim({ seed: 7, faults: 120, world: { trace: true } });
    const second = await runSim({ seed: 7, faults: 120, world: { trace: true } });
    expect(first.trace.length).toBeGreaterThan(100);
    expect(second.trace.join('\n')).toBe(first.trace.join('\n'));
  });
});
