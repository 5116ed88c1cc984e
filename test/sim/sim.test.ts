// The deterministic simulation in CI, first half: the real gateway and clients on a simulated
// network and clock (test/sim/), 50 seeds of 1,000 faults, every invariant checked as it runs and
// at the end; plus the byte-for-byte replay of one seed. The second half of the seeds is in
// sim-more-seeds.test.ts, so Vitest runs the two on both cores. A failure names its seed and the
// command that replays it (docs/simulation.md).
import { describe, expect, it } from 'vitest';
import { runSim } from './run.js';
import { describeSeeds, runSeeds } from './seeds.js';

/** `SIM_SEED_BASE` moves the window of seeds; `npm run sim` explores far more. */
const BASE = Number(process.env['SIM_SEED_BASE'] ?? 1);

describe('simulation: the real client and gateway under seeded faults', () => {
  it('keeps every invariant across seeds 1..50 of 1,000 faults each', { timeout: 240_000 }, async () => {
    const result = await runSeeds(BASE, 50, 1000);
    console.log(describeSeeds(result));
    expect(result.failures.join('\n')).toBe('');
    expect(result.faults).toBe(50_000);
    expect(result.delivered).toBeGreaterThan(0);
  });

  it('replays one seed byte for byte', { timeout: 60_000 }, async () => {
    const first = await runSim({ seed: 7, faults: 120, world: { trace: true } });
    const second = await runSim({ seed: 7, faults: 120, world: { trace: true } });
    expect(first.trace.length).toBeGreaterThan(100);
    expect(second.trace.join('\n')).toBe(first.trace.join('\n'));
  });
});
