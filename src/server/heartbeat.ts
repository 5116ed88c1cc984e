// Server-side liveness for one connection: ping every interval, and report silence once nothing
// has arrived for twice the interval. Cheap on the hot path: a frame only updates a timestamp.

/** Options for {@link startHeartbeat}. */
export interface HeartbeatOptions {
  readonly intervalMs: number;
  /** When the peer was last heard from (any frame counts). */
  readonly lastSeen: () => number;
  readonly now: () => number;
  readonly ping: () => void;
  /** Called once when the peer has been silent for `2 * intervalMs`. */
  readonly onSilent: () => void;
}

/** Start pinging and watching; returns a stop function that clears both timers. */
export function startHeartbeat(options: HeartbeatOptions): () => void {
  const silenceMs = options.intervalMs * 2;
  let stopped = false;
  const pinger = setInterval(options.ping, options.intervalMs);
  let watchdog: NodeJS.Timeout | undefined;

  // Re-arm at lastSeen + silence instead of resetting a timer on every frame.
  const arm = (): void => {
    const due = options.lastSeen() + silenceMs - options.now();
    watchdog = setTimeout(check, Math.max(1, due));
  };
  const check = (): void => {
    if (stopped) return;
    if (options.now() - options.lastSeen() >= silenceMs) {
      stop();
      options.onSilent();
      return;
    }
    arm();
  };
  const stop = (): void => {
    stopped = true;
    clearInterval(pinger);
    if (watchdog) clearTimeout(watchdog);
  };
  arm();
  return stop;
}
