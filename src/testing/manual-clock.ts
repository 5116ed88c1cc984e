// A clock that moves only when a test says so: timers fire in due order inside `advance(ms)`.
// It fits both the client's `clock` option and the gateway's, so a test can run retry delays,
// handshake timeouts and heartbeats without waiting for them, and without fake global timers
// (the sockets stay real; only Lifeline's own time is driven by hand).
import type { ClientClock } from '../client/index.js';
import type { GatewayClock } from '../server/index.js';

/** A clock for the client (`clock` option) and the gateway (`clock` option), driven by hand. */
export interface ManualClock extends ClientClock, GatewayClock {
  /** Monotonic milliseconds: starts at 0 and moves only in {@link ManualClock.advance}. */
  now(): number;
  /** Wall-clock milliseconds: the start wall time plus {@link ManualClock.now}. */
  wallNow(): number;
  /** Run `fn` once `ms` of manual time have passed. Returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): number;
  /** Cancel a timer; a handle already fired or cleared (or not from this clock) is ignored. */
  clearTimeout(handle: unknown): void;
  /**
   * Move time forward by `ms`, firing every timer that falls due, earliest first (timers due at
   * the same time in the order they were set), including timers those timers set. Synchronous:
   * what a timer starts (a socket write, a reconnect) then runs on the real event loop, so await
   * the outcome with `waitFor`.
   */
  advance(ms: number): void;
  /** Timers set and not yet fired or cleared. */
  readonly pending: number;
}

/** Options for {@link createManualClock}. */
export interface ManualClockOptions {
  /** Wall-clock milliseconds at monotonic 0. @default Date.UTC(2030, 0, 1), fixed so timestamps repeat run to run */
  readonly wallStart?: number;
}

interface Timer {
  readonly due: number;
  readonly fn: () => void;
}

/** Create a {@link ManualClock} at monotonic 0. Pass the same clock to the client and the gateway to drive both. */
export function createManualClock(options: ManualClockOptions = {}): ManualClock {
  const wallStart = options.wallStart ?? Date.UTC(2030, 0, 1);
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, Timer>();

  /** The earliest timer due by `until`; among equals the first set (a Map keeps insertion order). */
  const firstDue = (until: number): [number, Timer] | undefined => {
    let first: [number, Timer] | undefined;
    for (const entry of timers) if (entry[1].due <= until && (!first || entry[1].due < first[1].due)) first = entry;
    return first;
  };

  return {
    now: () => now,
    wallNow: () => wallStart + now,
    setTimeout(fn, ms) {
      const id = nextId++;
      // Like Node, a negative or non-numeric delay means "as soon as possible".
      timers.set(id, { due: now + (Number.isFinite(ms) ? Math.max(0, ms) : 0), fn });
      return id;
    },
    clearTimeout(handle) {
      if (typeof handle === 'number') timers.delete(handle);
    },
    advance(ms) {
      const until = now + Math.max(0, ms);
      for (let next = firstDue(until); next; next = firstDue(until)) {
        timers.delete(next[0]);
        now = next[1].due;
        next[1].fn();
      }
      now = until;
    },
    get pending() {
      return timers.size;
    },
  };
}
