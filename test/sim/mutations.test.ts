// Proof that the simulation can fail: each deliberate bug of mutations.ts, planted alone, must be
// caught within a stated number of seeds. A simulation that catches nothing proves nothing.
import { describe, expect, it } from 'vitest';
import type { Mutation } from './mutations.js';
import { replayCommand, runSim } from './run.js';
import { formatShrunk, shrink } from './shrink.js';

/** Seeds each mutation gets; measured: each is caught by seed 1 (docs/simulation.md). */
const WITHIN_SEEDS = 6;
const FAULTS = 400;

/** What catching each one looks like. */
const EXPECTED: Record<Mutation, RegExp> = {
  resumeOffByOne: /gap names seq \d+ in \S+, which the log still holds/,
  dedupeOff: /applied twice while the log kept its dedupe memory/,
  gapSignalDropped: /no gap signalled|never delivered and no gap named it/,
  unboundedQueue: /unsent bytes, over maxBufferedBytes/,
  backoffResetOnOpen: /connection attempts within one second/,
};

describe('simulation: every deliberate bug is caught', () => {
  for (const [name, pattern] of Object.entries(EXPECTED) as Array<[Mutation, RegExp]>) {
    it(`catches ${name} within ${WITHIN_SEEDS} seeds`, { timeout: 60_000 }, async () => {
      const caught: string[] = [];
      for (let seed = 1; seed <= WITHIN_SEEDS && caught.length === 0; seed++) {
        const report = await runSim({ seed, faults: FAULTS, stopAtViolation: true, mutation: name });
        caught.push(...report.violations.filter((v) => pattern.test(v)));
      }
      expect(caught.length, `${name} went unnoticed for ${WITHIN_SEEDS} seeds`).toBeGreaterThan(0);
    });
  }

  it('prints the seed and the command that replays a failure, and shrinks it to a readable timeline', { timeout: 60_000 }, async () => {
    const options = { seed: 2, faults: FAULTS, mutation: 'dedupeOff' } as const;
    const report = await runSim(options);
    expect(report.violations.length).toBeGreaterThan(0);
    expect(replayCommand(2, { faults: FAULTS, mutation: 'dedupeOff' })).toBe('npm run sim -- --seed 2 --faults 400 --mutation dedupeOff --trace');
    const shrunk = await shrink(options, report, 40);
    expect(shrunk.schedule.length).toBeLessThan(report.schedule.length / 4);
    expect(shrunk.report.violations.some((v) => EXPECTED.dedupeOff.test(v))).toBe(true);
    const text = formatShrunk(shrunk);
    expect(text).toMatch(/^minimal schedule: \d+ faults/);
    // The stories' timeline format: "  1.234s  kind       text".
    expect(text).toMatch(/^ +\d+\.\d{3}s {2}step {7}\S/m);
    expect(text).toMatch(/VIOLATION client \d: message \d+ applied twice/);
  });
});
