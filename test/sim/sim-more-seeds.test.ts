// The deterministic simulation in CI, second half: seeds 51..100 of 1,000 faults each (see
// sim.test.ts). Together the two files run 100,000 simulated faults.
import { describe, expect, it } from 'vitest';
import { describeSeeds, runSeeds } from './seeds.js';

const BASE = Number(process.env['SIM_SEED_BASE'] ?? 1);

describe('simulation: the real client and gateway under seeded faults', () => {
  it('keeps every invariant across seeds 51..100 of 1,000 faults each', { timeout: 240_000 }, async () => {
    const result = await runSeeds(BASE + 50, 50, 1000);
    console.log(describeSeeds(result));
    expect(result.failures.join('\n')).toBe('');
    expect(result.faults).toBe(50_000);
    expect(result.delivered).toBeGreaterThan(0);
  });
});
