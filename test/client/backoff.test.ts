// backoffDelay is pure: bounds, growth, cap and jitter are checked as properties; the retry
// schedule's tiers (the probe window, young, old) by example.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, DEFAULT_RECONNECT, failuresAfter, probeSteps, retryDelay } from '../../machines/backoff.js';

describe('backoffDelay', () => {
  it('uses the documented defaults: 250 ms first ceiling, factor 2, 30 s cap, full jitter', () => {
    expect(DEFAULT_RECONNECT).toMatchObject({ initialDelayMs: 250, multiplier: 2, maxDelayMs: 5000, probeWindowMs: 500, suspendAfterMs: 60_000, suspendedMaxDelayMs: 30_000, jitter: 1 });
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

describe('the retry schedule by tier', () => {
  it('probes within initialDelayMs, standing in for the steps whose ceiling fits the window (2 by default)', () => {
    expect(probeSteps()).toBe(2);
    expect(probeSteps({ probeWindowMs: 0 })).toBe(0);
    expect(probeSteps({ probeWindowMs: 999 })).toBe(2);
    expect(probeSteps({ probeWindowMs: 1000 })).toBe(3);
    // A ceiling that never outgrows the window: the count is bounded, not infinite.
    expect(probeSteps({ multiplier: 1 })).toBe(64);
    expect([1, 2, 9].map((f) => retryDelay(f, 'probing', {}, () => 0))).toEqual([250, 250, 250]);
    expect([0, 1, 2, 5].map((f) => failuresAfter(f, 'probing'))).toEqual([1, 2, 2, 5]);
  });

  it('backs off from the step after the window, under maxDelayMs while young and suspendedMaxDelayMs when old', () => {
    // The first failure after the default window is the third in a row: a 1 s ceiling.
    expect(retryDelay(failuresAfter(2, 'young'), 'young', {}, () => 0)).toBe(1000);
    expect(retryDelay(20, 'young', {}, () => 0)).toBe(5000);
    expect(retryDelay(20, 'old', {}, () => 0)).toBe(30_000);
    expect(retryDelay(3, 'old', {}, () => 0.5)).toBe(backoffDelay(2, {}, () => 0.5));
  });
});
