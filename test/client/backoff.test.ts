// backoffDelay is pure: bounds, growth, cap and jitter are checked as properties; the retry
// schedule's tiers (the probe window, young, old) by example.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, countsAsFailure, DEFAULT_RECONNECT, planRetry } from '../../machines/backoff.js';

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
  it('draws a new backoff step when the last wait was served, under maxDelayMs while young and suspendedMaxDelayMs when old', () => {
    expect(planRetry(3, 0, 'young', {}, () => 0)).toEqual({ waitMs: 1000, leftMs: 0 });
    expect(planRetry(20, 0, 'young', {}, () => 0)).toEqual({ waitMs: 5000, leftMs: 0 });
    expect(planRetry(20, 0, 'old', {}, () => 0)).toEqual({ waitMs: 30_000, leftMs: 0 });
    expect(planRetry(4, 0, 'old', {}, () => 0.5).waitMs).toBe(backoffDelay(3, {}, () => 0.5));
  });

  it('while probing, cuts the wait to a probe within initialDelayMs and carries the rest of the backoff', () => {
    // Draws in order: the backoff step (2 s ceiling), then the probe (250 ms ceiling).
    const draws = [0.25, 0.5];
    const plan = planRetry(4, 0, 'probing', {}, () => draws.shift() ?? 0);
    expect(plan).toEqual({ waitMs: 125, leftMs: 1500 - 125 });
    // The probe failed: not counted, and the rest carries, cut again while probing...
    expect(countsAsFailure(plan.leftMs)).toBe(false);
    expect(planRetry(4, plan.leftMs, 'probing', {}, () => 0)).toEqual({ waitMs: 250, leftMs: 1375 - 250 });
    // ... and served whole once the window is over.
    expect(planRetry(4, 1125, 'young', {}, () => 0)).toEqual({ waitMs: 1125, leftMs: 0 });
    // A backoff shorter than the probe is served as it is.
    expect(planRetry(4, 40, 'probing', {}, () => 0)).toEqual({ waitMs: 40, leftMs: 0 });
    expect(countsAsFailure(0)).toBe(true);
  });

  it('takes a wait the gateway asked for as a floor that serves the backoff too', () => {
    expect(planRetry(1, 0, 'young', {}, () => 0, 2000)).toEqual({ waitMs: 2000, leftMs: 0 });
    expect(planRetry(1, 900, 'probing', {}, () => 0, 300)).toEqual({ waitMs: 300, leftMs: 600 });
  });
});
