// The reconnect policy alone, without CPUs: when would each client of a crowd come back if every
// attempt before the server listens failed at once and cost nothing? Uses the client's own pure
// schedule (`planRetry`, `countsAsFailure`), so it is the shape the defaults promise, to set
// beside what was measured.
import { countsAsFailure, planRetry, resolveReconnectOptions, type ReconnectOptions, type RetryTier } from '../../machines/backoff.js';
import { peakInWindow, quantile } from './stats.js';

export interface ModelOutcome {
  readonly peak: number;
  readonly p99: number;
  readonly attempts: number;
}

/**
 * `clients` joined clients dropped at t=0; the server listens at `outageMs`. As the chart does:
 * the drop is failure 1 (retry 0's delay), the outage probes until `probeWindowMs` (a failed probe
 * is not counted, and the backoff it cut short carries on), is young until `suspendAfterMs` and
 * old after. Bounded at 64 attempts per client.
 */
export function modelStorm(clients: number, outageMs: number, options: ReconnectOptions, windowMs: number, random: () => number = Math.random): ModelOutcome {
  const o = resolveReconnectOptions(options);
  const tierAt = (t: number): RetryTier => (t >= o.suspendAfterMs ? 'old' : t < o.probeWindowMs ? 'probing' : 'young');
  const arrivals: number[] = [];
  let attempts = 0;
  for (let c = 0; c < clients; c++) {
    // The drop's own wait is planned before the outage starts, as a young one (retry 0's delay).
    let failures = 1;
    let plan = planRetry(failures, 0, 'young', o, random);
    let t = 0;
    for (let n = 0; n < 64; n++) {
      t += plan.waitMs;
      attempts++;
      if (t >= outageMs) break;
      if (countsAsFailure(plan.leftMs)) failures++;
      plan = planRetry(failures, plan.leftMs, tierAt(t), o, random);
    }
    arrivals.push(t);
  }
  return { peak: peakInWindow(arrivals, windowMs), p99: quantile(arrivals, 0.99), attempts };
}
