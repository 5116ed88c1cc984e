// The bounded chaos suite for CI: >= 200 seeded faults against 4 clients, then every invariant.
// Set CHAOS_SEED to replay a failing schedule; the seed is printed with every failure.
import { describe, expect, it } from 'vitest';
import { formatReport, runChaos } from './engine.js';
import { randomSeed } from './prng.js';

const seed = process.env['CHAOS_SEED'] === undefined ? randomSeed() : Number(process.env['CHAOS_SEED']);

describe('chaos: seeded faults against the real gateway and clients', () => {
  it(`keeps every stream ordered, gap-honest and exactly-once (seed ${seed})`, { timeout: 90_000 }, async () => {
    const report = await runChaos({ seed, maxFaults: 220, durationMs: 45_000 });
    const summary = formatReport(report);
    console.log(summary);
    expect(report.violations, `replay with CHAOS_SEED=${seed}\n${summary}`).toEqual([]);
    expect(report.faultsTotal).toBeGreaterThanOrEqual(200);
    expect(report.delivered).toBeGreaterThan(0);
    expect(report.messages.applied).toBe(report.messages.sent);
    // Honest gaps: every event the clients never saw was named by a signalled gap.
    expect(report.realMissing).toBe(report.signalledMissing);
  });

  it('fails when a client loses one event silently (negative control: the suite can fail)', { timeout: 30_000 }, async () => {
    let seen = 0;
    const report = await runChaos({
      seed,
      clients: 2,
      maxFaults: 6,
      tamper: (lane, output) => !(lane.index === 0 && output.kind === 'event' && ++seen === 40),
    });
    expect(report.violations.join('\n')).toMatch(/client 0: .*(no gap signalled|never delivered)/);
  });
});
