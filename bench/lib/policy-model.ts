// The reconnect policy alone, without CPUs: when would each client of a crowd come back if every
// attempt before the server listens failed at once and cost nothing? Uses the client's own pure
// `backoffDelay`, so it is the shape the defaults promise, to set beside what was measured.
import { backoffDelay, type ReconnectOptions } from '../../machines/backoff.js';
import { peakInWindow, quantile } from './stats.js';

export interface ModelOutcome {
  readonly peak: number;
  readonly p99: number;
  readonly attempts: number;
}

/** `clients` dropped at t=0; the server listens at `outageMs`. Bounded at 64 attempts per client. */
export function modelStorm(clients: number, outageMs: number, options: ReconnectOptions, windowMs: number, random: () => number = Math.random): ModelOutcome {
  const arrivals: number[] = [];
  let attempts = 0;
  for (let c = 0; c < clients; c++) {
    let t = 0;
    // The chart counts the drop as failure 1 and waits backoffDelay(failures - 1) after each.
    for (let failures = 1; failures <= 64; failures++) {
      t += backoffDelay(failures - 1, options, random);
      attempts++;
      if (t >= outageMs) break;
    }
    arrivals.push(t);
  }
  return { peak: peakInWindow(arrivals, windowMs), p99: quantile(arrivals, 0.99), attempts };
}
