// Server-side liveness for one connection: ping every interval, and report silence once nothing
// has arrived for twice the interval. Cheap on the hot path: a frame only updates a timestamp.
// Silence is measured on the clock's monotonic `now()`, so a wall-clock step changes nothing.
import { every, type GatewayClock, type TimerHandle } from './clock.js';

/** Options for {@link startHeartbeat}. */
export interface HeartbeatOptions {
  readonly intervalMs: number;
  /** When the peer was last heard from (any frame counts), on `clock.now()`. */
  readonly lastSeen: () => number;
  readonly clock: GatewayClock;
  readonly ping: () => void;
  /** Called once when the peer has been silent for `2 * intervalMs`. */
  readonly onSilent: () => void;
}

/** Start pinging and watching; returns a stop function that clears both timers. */
export function startHeartbeat(options: HeartbeatOptions): () => void {
  const { clock } = options;
  const silenceMs = options.intervalMs * 2;
  let stopped = false;
  const stopPinger = every(clock, options.intervalMs, options.ping);
  let watchdog: TimerHandle;

  // Re-arm at lastSeen + silence instead of resetting a timer on every frame.
  const arm = (): void => {
    const due = options.lastSeen() + silenceMs - clock.now();
    watchdog = clock.setTimeout(check, Math.max(1, due));
  };
  const check = (): void => {
    if (stopped) return;
    if (clock.now() - options.lastSeen() >= silenceMs) {
      stop();
      options.onSilent();
      return;
    }
    arm();
  };
  const stop = (): void => {
    stopped = true;
    stopPinger();
    clock.clearTimeout(watchdog);
  };
  arm();
  return stop;
}
