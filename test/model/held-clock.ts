// A clock for the client that runs the heartbeat watchdog in real time but holds the chart's own
// delays (handshake timeout, retry delay, stable uptime) until the test releases them. The model
// then decides when "time passes", so a path never races a timer and never sleeps for one.
import type { ClientClock } from '../../src/client/index.js';

/** A held timer: one of the chart's delays, waiting for the test. */
export interface HeldTimer {
  readonly ms: number;
}

export interface HeldClock extends ClientClock {
  /** The chart delays scheduled and not cancelled. */
  held(): readonly HeldTimer[];
  /** Fire the one held timer of `ms`; throws unless exactly one is pending (the chart scheduled what the model says). */
  release(ms: number): void;
  /** From now on run every timer in real time, firing the held ones at once (teardown). */
  releaseAll(): void;
}

/**
 * Create a held clock. A timer is held when its delay is 0 or at least `gateMs`: the test config
 * keeps every chart delay there, while the watchdog only ever schedules 1..2×heartbeat ms
 * (`Math.max(1, …)`), so its ticks stay real and a stalled socket is noticed on its own.
 */
export function createHeldClock(gateMs: number): HeldClock {
  interface Entry extends HeldTimer {
    readonly fn: () => void;
  }
  const held = new Set<Entry>();
  let passthrough = false;
  return {
    now: () => performance.now(),
    setTimeout(fn, ms) {
      if (passthrough || (ms > 0 && ms < gateMs)) return { real: setTimeout(fn, ms) };
      const entry: Entry = { ms, fn: () => fn() };
      held.add(entry);
      return { entry };
    },
    clearTimeout(id) {
      if (typeof id !== 'object' || id === null) return;
      if ('real' in id) clearTimeout(id.real as ReturnType<typeof setTimeout>);
      if ('entry' in id) held.delete(id.entry as Entry);
    },
    held: () => [...held],
    release(ms) {
      const matching = [...held].filter((e) => e.ms === ms);
      const [entry] = matching;
      if (matching.length !== 1 || !entry) {
        throw new Error(`expected one held chart timer of ${ms} ms; held: [${[...held].map((e) => e.ms).join(', ')}]`);
      }
      held.delete(entry);
      entry.fn();
    },
    releaseAll() {
      passthrough = true;
      const entries = [...held];
      held.clear();
      for (const entry of entries) entry.fn();
    },
  };
}
