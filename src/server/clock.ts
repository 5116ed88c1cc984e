// The gateway's one source of time. Every deadline, silence check, rate window, expiry and uptime
// reads the monotonic `now()`, so a wall-clock step (NTP, a VM resume, an admin) cannot fire or
// hold back a timer; only timestamps that go on the wire read `wallNow()`. Injectable, so a
// simulation can drive the real gateway on virtual time.

/** An opaque timer handle, as returned by {@link GatewayClock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Time as the gateway sees it. The default, {@link systemClock}, is `performance.now()`, `Date.now()`
 * and the global timers; a simulation passes its own to run the real gateway on virtual time.
 */
export interface GatewayClock {
  /** Monotonic milliseconds from an arbitrary origin: the only time durations are measured in. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch, only for timestamps sent on the wire. */
  wallNow(): number;
  /** Run `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancel a timer from {@link GatewayClock.setTimeout}; a handle already fired or cleared is ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/** The production clock: `performance.now()`, `Date.now()` and Node's timers. */
export const systemClock: GatewayClock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};

/**
 * Let a background timer not keep the process alive. A no-op for clocks whose handles have no
 * `unref` (a simulated clock has no event loop to hold open).
 */
export function unrefTimer(handle: TimerHandle): void {
  if (typeof handle === 'object' && handle !== null && 'unref' in handle && typeof handle.unref === 'function') handle.unref();
}

/**
 * Call `fn` every `ms` on `clock`, re-armed at each tick.
 * Built on `setTimeout` alone, so any clock with one-shot timers will do. Returns a stop function.
 */
export function every(clock: GatewayClock, ms: number, fn: () => void, options: { readonly unref?: boolean } = {}): () => void {
  let stopped = false;
  let handle: TimerHandle;
  const arm = (): void => {
    handle = clock.setTimeout(tick, ms);
    if (options.unref === true) unrefTimer(handle);
  };
  const tick = (): void => {
    if (stopped) return;
    arm();
    fn();
  };
  arm();
  return () => {
    stopped = true;
    clock.clearTimeout(handle);
  };
}
