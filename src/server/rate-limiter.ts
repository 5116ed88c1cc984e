// Per-address connection rate limit: a sliding window of accepted connection times per IP.
// Refused attempts are not counted, so a client that honours retry_after_seconds gets back in.

/** Connections allowed per address within a sliding window. */
export interface RateLimit {
  readonly connections: number;
  readonly perMs: number;
}

/** The verdict for one connection attempt. */
export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

/** A sliding-window limiter keyed by address; `now` is injected so tests can drive time. */
export interface RateLimiter {
  check(address: string): RateDecision;
  /** Addresses currently tracked (for stats and leak tests). */
  readonly size: number;
}

/**
 * Create a limiter. Memory stays bounded: stale addresses are swept as the map grows. `now` is
 * monotonic milliseconds (the gateway passes its clock's `now`).
 * @default now performance.now
 */
export function createRateLimiter(limit: RateLimit, now: () => number = () => performance.now()): RateLimiter {
  const attempts = new Map<string, number[]>();
  let sweepAt = 1024;

  function sweep(at: number): void {
    for (const [address, times] of attempts) {
      if ((times[times.length - 1] ?? 0) <= at - limit.perMs) attempts.delete(address);
    }
    sweepAt = Math.max(1024, attempts.size * 2);
  }

  return {
    check(address) {
      const at = now();
      if (attempts.size >= sweepAt) sweep(at);
      const times = (attempts.get(address) ?? []).filter((t) => t > at - limit.perMs);
      if (times.length >= limit.connections) {
        attempts.set(address, times);
        const oldest = times[0] ?? at;
        // Whole seconds, at least 1: the PraisonAI dialect uses integers, and 0 would invite a hot loop.
        return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + limit.perMs - at) / 1000)) };
      }
      times.push(at);
      attempts.set(address, times);
      return { ok: true };
    },
    get size() {
      return attempts.size;
    },
  };
}
