// A gateway clock that moves only when the test says so: timers fire in due order inside
// `advance(ms)`. Enough to prove that the gateway takes all its time from the injected clock.
import type { GatewayClock } from '../../src/server/clock.js';

/** A {@link GatewayClock} driven by hand. */
export interface ManualClock extends GatewayClock {
  /** Move time forward, firing every timer that falls due, in order. */
  advance(ms: number): void;
  /** Timers armed and not yet fired or cleared. */
  readonly pending: number;
}

/** Create a manual clock at monotonic 0 and the given wall time. */
export function createManualClock(wallStart = Date.UTC(2030, 0, 1)): ManualClock {
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, { due: number; fn: () => void }>();
  return {
    now: () => now,
    wallNow: () => wallStart + now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { due: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(handle) {
      if (typeof handle === 'number') timers.delete(handle);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        let first: [number, { due: number; fn: () => void }] | undefined;
        for (const entry of timers) if (entry[1].due <= until && (!first || entry[1].due < first[1].due)) first = entry;
        if (!first) break;
        timers.delete(first[0]);
        now = first[1].due;
        first[1].fn();
      }
      now = until;
    },
    get pending() {
      return timers.size;
    },
  };
}
