// Reconnect timing as pure functions: exponential backoff with jitter, and the option defaults.
// No clock and no Math.random here: the caller passes `random`, so tests and the chart are exact.

/** How the client retries after a connection fails. Every field is optional; see the defaults. */
export interface ReconnectOptions {
  /**
   * Ceiling of the first retry's delay. With full jitter the first retry lands in `0..initialDelayMs`.
   * @default 250
   */
  readonly initialDelayMs?: number;
  /**
   * Cap on any single delay while the outage is young (shorter than `suspendAfterMs`): short
   * outages end fast.
   * @default 5000
   */
  readonly maxDelayMs?: number;
  /**
   * The probe window. When a connection that was up drops, the client also probes for this long:
   * between the backoff's attempts it retries within `initialDelayMs` each time (full jitter). A
   * probe that fails is not counted (toward the backoff's growth or `maxAttempts`), and what was
   * left of the backoff wait carries on, so the schedule after the window is the one without it.
   * Most outages are a restart or a blip shorter than this, and a refused connect costs the
   * gateway nothing. It ends early when a connection opens. A client that has not joined yet (the
   * first connect) never probes. 0 turns probing off.
   * @default 500
   */
  readonly probeWindowMs?: number;
  /**
   * Age of an outage (since the first lost connection or failed attempt, until a stable join)
   * after which the client moves to `suspended` and retries under `suspendedMaxDelayMs`, so a long
   * outage across a large fleet stays gentle (Ably's *disconnected* vs *suspended*).
   * @default 60000
   */
  readonly suspendAfterMs?: number;
  /**
   * Cap on any single delay while `suspended`.
   * @default 30000
   */
  readonly suspendedMaxDelayMs?: number;
  /**
   * Growth factor of the ceiling per failed attempt.
   * @default 2
   */
  readonly multiplier?: number;
  /**
   * Share of the ceiling that is randomised: 1 is "full jitter" (`random(0, ceiling)`), 0 is none.
   * Full jitter keeps clients that failed together from returning together.
   * @default 1
   */
  readonly jitter?: number;
  /**
   * Retries after a failure, in a row, before the client gives up with `retries_exhausted`: the
   * count of *re*-tries, as socket.io's `reconnectionAttempts`. `maxAttempts: 3` gives up at the
   * 4th failure in a row (the first attempt and 3 retries); 0 gives up at the first failure.
   * The counter resets after a stable join (`minUptimeMs`).
   * @default Infinity
   */
  readonly maxAttempts?: number;
  /**
   * How long a connection must stay joined before the failure counter resets. A server that
   * accepts and drops at once must not reset it, or the client would loop at the first delay.
   * @default 5000
   */
  readonly minUptimeMs?: number;
}

/** {@link ReconnectOptions} with every default filled in. */
export type ResolvedReconnectOptions = { readonly [K in keyof ReconnectOptions]-?: number };

/** The defaults applied by {@link resolveReconnectOptions}. */
export const DEFAULT_RECONNECT: Required<ReconnectOptions> = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 5_000,
  probeWindowMs: 500,
  suspendAfterMs: 60_000,
  suspendedMaxDelayMs: 30_000,
  multiplier: 2,
  jitter: 1,
  maxAttempts: Number.POSITIVE_INFINITY,
  minUptimeMs: 5_000,
});

/** Fill in the defaults. Validation lives with the client options (`invalid_options`). */
export function resolveReconnectOptions(options: ReconnectOptions = {}): ResolvedReconnectOptions {
  return {
    initialDelayMs: options.initialDelayMs ?? DEFAULT_RECONNECT.initialDelayMs,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_RECONNECT.maxDelayMs,
    probeWindowMs: options.probeWindowMs ?? DEFAULT_RECONNECT.probeWindowMs,
    suspendAfterMs: options.suspendAfterMs ?? DEFAULT_RECONNECT.suspendAfterMs,
    suspendedMaxDelayMs: options.suspendedMaxDelayMs ?? DEFAULT_RECONNECT.suspendedMaxDelayMs,
    multiplier: options.multiplier ?? DEFAULT_RECONNECT.multiplier,
    jitter: options.jitter ?? DEFAULT_RECONNECT.jitter,
    maxAttempts: options.maxAttempts ?? DEFAULT_RECONNECT.maxAttempts,
    minUptimeMs: options.minUptimeMs ?? DEFAULT_RECONNECT.minUptimeMs,
  };
}

/** The un-jittered upper bound of retry number `attempt` (0-based): `min(max, initial * multiplier^attempt)`. */
export function backoffCeiling(attempt: number, options: ReconnectOptions = {}): number {
  const o = resolveReconnectOptions(options);
  const exponent = Math.max(0, Math.floor(attempt));
  // Math.pow overflows to Infinity for large attempts; Math.min caps it, so no special case.
  return Math.min(o.maxDelayMs, o.initialDelayMs * Math.pow(o.multiplier, exponent));
}

/**
 * The delay before retry number `attempt` (0-based: 0 is the first retry), in whole ms.
 *
 * Full jitter by default (`random() * ceiling`), as in the AWS "Exponential Backoff and Jitter"
 * analysis: it spreads a crowd of clients best. With `jitter < 1` only that share is random:
 * `ceiling * (1 - jitter * random())`. The result is always within `0..maxDelayMs`.
 *
 * @param random a source in `[0, 1)`, e.g. `Math.random`; injected so the schedule is testable.
 */
export function backoffDelay(attempt: number, options: ReconnectOptions = {}, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(attempt, options);
  const jitter = Math.min(1, Math.max(0, options.jitter ?? DEFAULT_RECONNECT.jitter));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling * (1 - jitter * r));
}

/**
 * Which schedule a failure follows: `probing` (the probe window after a joined connection
 * dropped), `young` (backoff under `maxDelayMs`) or `old` (under `suspendedMaxDelayMs`).
 */
export type RetryTier = 'probing' | 'young' | 'old';

/** The wait planned after a failed attempt, and what is left of the backoff wait after it. */
export interface RetryPlan {
  readonly waitMs: number;
  /** The rest of the backoff wait, carried to the next failure (0: the wait is served in full). */
  readonly leftMs: number;
}

/**
 * Whether a failure counts as one more in a row (toward the backoff's growth and `maxAttempts`):
 * only when no backoff wait was left over, i.e. unless it was a probe.
 */
export function countsAsFailure(leftMs: number): boolean {
  return leftMs <= 0;
}

/**
 * The wait after a failed attempt that leaves `failures` failures in a row. With a backoff wait
 * left over (`leftMs > 0`, the attempt was a probe), that rest is the backoff; otherwise a new
 * step is drawn ({@link backoffDelay}, under the tier's cap). While probing, the wait is cut to a
 * probe within `initialDelayMs` and the rest is carried, so the probe window only adds attempts:
 * the backoff schedule runs as it would without them. A wait the gateway asked for (`floorMs`) is
 * a floor, and counts as backoff served.
 */
export function planRetry(failures: number, leftMs: number, tier: RetryTier, options: ReconnectOptions = {}, random: () => number = Math.random, floorMs = 0): RetryPlan {
  const o = resolveReconnectOptions(options);
  const backoff = leftMs > 0 ? leftMs : backoffDelay(failures - 1, tier === 'old' ? { ...o, maxDelayMs: o.suspendedMaxDelayMs } : o, random);
  const waitMs = Math.max(floorMs, tier === 'probing' ? Math.min(backoff, backoffDelay(0, o, random)) : backoff);
  return { waitMs, leftMs: Math.max(0, backoff - waitMs) };
}
