// backoffDelay is pure: bounds, growth, cap and jitter are checked as properties.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, DEFAULT_RECONNECT } from '../../machines/backoff.js';

describe('backoffDelay', () => {
  it('uses the documented defaults: 250 ms first ceiling, factor 2, 30 s cap, full jitter', () => {
    expect(DEFAULT_RECONNECT).toMatchObject({ initialDelayMs: 250, multiplier: 2, maxDelayMs: 5000, suspendAfterMs: 60_000, suspendedMaxDelayMs: 30_000, jitter: 1 });
    expect([0, 1, 2, 3, 20].map((n) => backoffCeiling(n))).toEqual([250, 500, 1000, 2000, 5000]);
    // Full jitter: random 0 gives the ceiling, random ~1 gives ~0.
    expect(backoffDelay(0, {}, () => 0)).toBe(250);
    expect(backoffDelay(0, {}, () => 0.999)).toBe(0);
    expect(backoffDelay(3, {}, () => 0.5)).toBe(1000);
  });

  it('always lands within 0..min(cap, initial * multiplier^attempt)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, initialDelayMs, maxDelayMs, multiplier, jitter, r) => {
          const options = { initialDelayMs, maxDelayMs, multiplier, jitter };
          const delay = backoffDelay(attempt, options, () => r);
          const ceiling = Math.min(maxDelayMs, initialDelayMs * multiplier ** attempt);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(Math.round(ceiling));
          // The non-random share is a floor.
          expect(delay).toBeGreaterThanOrEqual(Math.round(ceiling * (1 - jitter)) - 1);
        },
      ),
    );
  });

  it('never decreases in its ceiling as attempts grow, and is deterministic without jitter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), (attempt) => {
        expect(backoffCeiling(attempt + 1)).toBeGreaterThanOrEqual(backoffCeiling(attempt));
        expect(backoffDelay(attempt, { jitter: 0 }, () => 0.3)).toBe(backoffCeiling(attempt));
      }),
    );
  });

  it('varies with the random source, so clients that failed together spread out', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
