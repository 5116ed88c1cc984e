// The heartbeat watchdog: while joined, it judges liveness by silence (any frame counts) against
// the negotiated `policy.heartbeat_ms`, measured on the monotonic `clock.now()`, so a wall-clock
// step never hides a dead link. After one interval of silence it pings; after two it presumes the
// socket half-open and reports `heartbeat.missed`. A monotonic clock does not count a machine's
// suspend, so each tick also looks for a wake-up and answers it with one immediate probe.
// It runs inside the socket actor (the chart's `watchLiveness` starts it when it joins; it stops
// with the connection), which stamps the time a frame last arrived: the per-event path only stamps
// that time, and the watchdog reads it when its timer fires. No actor of its own (bench/README.md,
// memory).
import type { ClientFrame } from '../protocol/index.js';
import type { ClientClock } from './types.js';

/** What the watchdog watches: one connection, as the socket actor holds it. */
export interface WatchedConnection {
  /** Monotonic time (`clock.now()`) of the last frame received. */
  heardAt(): number;
  /** Write a frame (a ping) on the connection. */
  write(frame: ClientFrame): void;
  /** Silence past the limit: the chart answers `heartbeat.missed` with `socket.terminate`. */
  missed(): void;
}

/**
 * Smallest gap that counts as a wake-up: wall time running this far ahead of monotonic time
 * between two ticks (a suspend), or a tick this late (a frozen or throttled page). The gap is the
 * heartbeat interval when that is longer, so NTP slewing and busy event loops stay quiet.
 */
export const MIN_WAKE_GAP_MS = 1000;

/** Wall-clock ms from the clock, or its monotonic time when it keeps no wall clock (then only late ticks reveal a wake-up). */
function wallOf(clock: ClientClock): number {
  return clock.wallNow ? clock.wallNow() : clock.now();
}

// A class, not a closure per step: one per joined client (bench/README.md, memory).
export class HeartbeatWatchdog {
  private readonly silenceLimit: number;
  private readonly wakeGap: number;
  private timer: unknown = null;
  private dueAt = 0;
  private pingedFor = -1;
  /** Missed (reported once) or stopped: no more checks. */
  private done = false;
  /** A probe waiting for its answer: any frame after `probeSentAt`, by `probeDeadline`. */
  private probing = false;
  private probeSentAt = 0;
  private probeDeadline = 0;
  private lastMono: number;
  private lastWall: number;

  /** Starts watching at once: the first check is one `interval` from now. */
  constructor(
    private readonly clock: ClientClock,
    private readonly interval: number,
    private readonly connection: WatchedConnection,
  ) {
    this.silenceLimit = 2 * interval;
    this.wakeGap = Math.max(interval, MIN_WAKE_GAP_MS);
    this.lastMono = clock.now();
    this.lastWall = wallOf(clock);
    this.arm(interval);
  }

  /** Check liveness now (the page became visible, the network changed): a probe when none is out. */
  probe(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.check(false, true);
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.done = true;
  }

  private arm(delay: number): void {
    const ms = Math.max(1, delay);
    this.dueAt = this.clock.now() + ms;
    this.timer = this.clock.setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    this.timer = null;
    this.check(true, false);
  }

  private ping(heardAt: number): void {
    this.pingedFor = heardAt;
    // `ts` is a wire timestamp (echoed in `pong`), so it is wall-clock; no deadline reads it.
    this.connection.write({ type: 'ping', ts: Math.round(wallOf(this.clock)) });
  }

  /** A suspend the monotonic clock did not count, or a tick that fired long after its time. */
  private wokeUp(now: number, fromTimer: boolean): boolean {
    const wall = wallOf(this.clock);
    const suspended = wall - this.lastWall - (now - this.lastMono) > this.wakeGap;
    const late = fromTimer && now - this.dueAt > this.wakeGap;
    this.lastMono = now;
    this.lastWall = wall;
    return suspended || late;
  }

  private check(fromTimer: boolean, probeNow: boolean): void {
    if (this.done) return;
    const now = this.clock.now();
    const heardAt = this.connection.heardAt();
    const woke = this.wokeUp(now, fromTimer);
    if (this.probing && heardAt >= this.probeSentAt) this.probing = false;
    const silent = now - heardAt;
    if (silent >= this.silenceLimit || (this.probing && now >= this.probeDeadline)) {
      this.done = true;
      this.connection.missed();
      return;
    }
    // One probe at a time: a wake-up (or a page that became visible) asks for an answer within
    // one interval instead of trusting a socket that may have died meanwhile.
    if ((woke || probeNow) && !this.probing) {
      this.ping(heardAt);
      this.probing = true;
      this.probeSentAt = now;
      this.probeDeadline = now + this.interval;
    }
    // Provoke traffic once per silence: a gateway that pings less often still answers a ping.
    else if (silent >= this.interval && this.pingedFor !== heardAt) this.ping(heardAt);
    const untilSilence = silent < this.interval ? this.interval - silent : this.silenceLimit - silent;
    this.arm(!this.probing ? untilSilence : Math.min(untilSilence, this.probeDeadline - now));
  }
}
