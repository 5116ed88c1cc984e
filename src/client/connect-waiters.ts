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

/** Create the waiter list of one client; `failures()` is its running count of failed attempts. */
export function createConnectWaiters(clock: ClientClock, failures: () => number, giveUp: GiveUp): ConnectWaiters {
  let waiters: Waiter[] = [];

  function remove(waiter: Waiter): void {
    waiters = waiters.filter((w) => w !== waiter);
    if (waiter.timer !== null) clock.clearTimeout(waiter.timer);
  }

  function expire(waiter: Waiter): void {
    remove(waiter);
    waiter.reject(giveUp(clock.now() - waiter.startedAt, failures() - waiter.since));
  }

  return {
    add(options, defaultTimeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          since: failures(),
          maxFailures: options.maxFailures ?? Number.POSITIVE_INFINITY,
          startedAt: clock.now(),
          timer: null,
        };
        const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
        // Past 2^31 - 1 ms a timer fires at once; such a deadline means "no deadline".
        if (timeoutMs <= MAX_TIMER_MS) waiter.timer = clock.setTimeout(() => expire(waiter), timeoutMs);
        waiters.push(waiter);
      });
    },
    failed() {
      for (const waiter of [...waiters]) if (failures() - waiter.since >= waiter.maxFailures) expire(waiter);
    },
    settle(error) {
      const all = waiters;
      waiters = [];
      for (const waiter of all) {
        if (waiter.timer !== null) clock.clearTimeout(waiter.timer);
        if (error === null) waiter.resolve();
        else waiter.reject(error);
      }
    },
  };
}
