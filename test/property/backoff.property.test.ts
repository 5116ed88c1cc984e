// backoffDelay beyond its bounds: monotone in the random draw, capped for any attempt count,
// and spreading a crowd of clients that failed together (the reason for full jitter).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, type ReconnectOptions } from '../../machines/backoff.js';
import { createRng } from '../chaos/prng.js';

const optionsArb: fc.Arbitrary<ReconnectOptions> = fc.record({
  initialDelayMs: fc.integer({ min: 1, max: 5000 }),
  maxDelayMs: fc.integer({ min: 1, max: 120_000 }),
  multiplier: fc.double({ min: 1, max: 10, noNaN: true }),
  jitter: fc.double({ min: 0, max: 1, noNaN: true }),
});

describe('backoffDelay: properties', () => {
  it('is a whole number of ms within 0..maxDelayMs for any attempt, even absurd ones', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(100), fc.integer({ min: 0, max: 2 ** 31 }), fc.constant(Number.MAX_SAFE_INTEGER)), optionsArb, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, options, r) => {
        const delay = backoffDelay(attempt, options, () => r);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(options.maxDelayMs ?? Infinity);
      }),
      { numRuns: 500 },
    );
  });

  it('a larger random draw never gives a longer wait, and jitter 0 ignores the draw', () => {
    fc.assert(
      fc.property(fc.nat(40), optionsArb, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, options, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(backoffDelay(attempt, options, () => hi)).toBeLessThanOrEqual(backoffDelay(attempt, options, () => lo));
        const fixed = { ...options, jitter: 0 };
        expect(backoffDelay(attempt, fixed, () => a)).toBe(backoffDelay(attempt, fixed, () => b));
        expect(backoffDelay(attempt, fixed, () => a)).toBe(Math.round(backoffCeiling(attempt, fixed)));
      }),
    );
  });

  it('clamps a random source that strays outside [0, 1)', () => {
    fc.assert(
      fc.property(fc.nat(30), fc.double({ min: -1e6, max: 1e6, noNaN: true }), (attempt, r) => {
        const delay = backoffDelay(attempt, {}, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(backoffCeiling(attempt));
      }),
    );
  });

  it('spreads 200 clients that failed together over the whole window (full jitter)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.integer(), (attempt, seed) => {
        const rng = createRng(seed);
        const ceiling = backoffCeiling(attempt);
        const delays = Array.from({ length: 200 }, () => backoffDelay(attempt, {}, rng.next));
        const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
        // Uniform on [0, ceiling]: the mean sits near the middle and no tenth of the window holds
        // more than a quarter of the crowd (a thundering herd would put them all in one).
        expect(mean).toBeGreaterThan(ceiling * 0.35);
        expect(mean).toBeLessThan(ceiling * 0.65);
        const buckets = new Array<number>(10).fill(0);
        for (const d of delays) {
          const b = Math.min(9, Math.floor((d / (ceiling + 1)) * 10));
          buckets[b] = (buckets[b] ?? 0) + 1;
        }
        expect(Math.max(...buckets)).toBeLessThan(50);
      }),
      { numRuns: 50 },
    );
  });
});
