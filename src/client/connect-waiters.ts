// The promises `connect()` hands out: each settles on the first join, on a terminal stop, or when
// its own deadline or failure budget runs out, so an app awaiting `connect()` at start-up learns
// that the URL is wrong instead of waiting forever. Giving up settles the promise only; the client
// keeps trying until `disconnect()`.
import type { GatewayConnectError } from './errors.js';
import { MAX_TIMER_MS } from './options.js';
import type { ClientClock, ConnectOptions } from './types.js';

/** How long `connect()` waits by default. @default 30000 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;


interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: GatewayConnectError) => void;
  /** Failed attempts counted when the call was made. */
  readonly since: number;
  readonly maxFailures: number;
  readonly startedAt: number;
  timer: unknown;
}

/** What a waiter that gave up is told: how long it waited and how many attempts failed meanwhile. */
export type GiveUp = (waitedMs: number, failures: number) => GatewayConnectError;

export interface ConnectWaiters {
  /** A new `connect()` promise. */
  add(options: ConnectOptions, defaultTimeoutMs: number): Promise<void>;
  /** Another attempt failed: waiters whose budget is spent give up. */
  failed(): void;
  /** Joined (`null`) or stopped for good (`error`): settle every waiter. */
  settle(error: GatewayConnectError | null): void;
}

// A class, not a closure per method: one per client (bench/README.md, memory).
class Waiters implements ConnectWaiters {
  private waiters: Waiter[] = [];

  constructor(
    private readonly clock: ClientClock,
    private readonly failures: () => number,
    private readonly giveUp: GiveUp,
  ) {}

  add(options: ConnectOptions, defaultTimeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        since: this.failures(),
        maxFailures: options.maxFailures ?? Number.POSITIVE_INFINITY,
        startedAt: this.clock.now(),
        timer: null,
      };
      const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
      // Past 2^31 - 1 ms a timer fires at once; such a deadline means "no deadline".
      if (timeoutMs <= MAX_TIMER_MS) waiter.timer = this.clock.setTimeout(() => this.expire(waiter), timeoutMs);
      this.waiters.push(waiter);
    });
  }

  failed(): void {
    for (const waiter of [...this.waiters]) if (this.failures() - waiter.since >= waiter.maxFailures) this.expire(waiter);
  }

  settle(error: GatewayConnectError | null): void {
    const all = this.waiters;
    if (all.length === 0) return;
    this.waiters = [];
    for (const waiter of all) {
      if (waiter.timer !== null) this.clock.clearTimeout(waiter.timer);
      if (error === null) waiter.resolve();
      else waiter.reject(error);
    }
  }

  private expire(waiter: Waiter): void {
    this.waiters = this.waiters.filter((w) => w !== waiter);
    if (waiter.timer !== null) this.clock.clearTimeout(waiter.timer);
    waiter.reject(this.giveUp(this.clock.now() - waiter.startedAt, this.failures() - waiter.since));
  }
}

/** Create the waiter list of one client; `failures()` is its running count of failed attempts. */
export function createConnectWaiters(clock: ClientClock, failures: () => number, giveUp: GiveUp): ConnectWaiters {
  return new Waiters(clock, failures, giveUp);
}
