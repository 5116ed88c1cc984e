// Server-side liveness for one connection: ping every interval, and report silence once nothing
// has arrived for twice the interval. Cheap on the hot path: a frame only updates a timestamp.
// Silence is measured on the clock's monotonic `now()`, so a wall-clock step changes nothing.
// One timer per connection does both: it is armed for whichever comes first, the next ping or the
// moment the peer would have been silent too long, and re-armed from there (a gateway holding many
// idle connections pays one pending timer each, not two).
import type { GatewayClock, TimerHandle } from './clock.js';

/** What a heartbeat asks of its connection (methods, so a connection is its own host). */
export interface HeartbeatHost {
  /** When the peer was last heard from (any frame counts), on `clock.now()`. */
  lastSeen(): number;
  ping(): void;
  /** Called once when the peer has been silent for `2 * intervalMs`. */
  onSilent(): void;
}

/** A running heartbeat; `stop()` clears its timer. */
export interface Heartbeat {
  stop(): void;
}

class Beat implements Heartbeat {
  private readonly silenceMs: number;
  /** When the next ping is due, on `clock.now()`. */
  private nextPing: number;
  private timer: TimerHandle;
  private stopped = false;
  /** The one callback every arming of this heartbeat's timer reuses. */
  private readonly fire = (): void => this.check();

  constructor(
    private readonly intervalMs: number,
    private readonly clock: GatewayClock,
    private readonly host: HeartbeatHost,
  ) {
    this.silenceMs = intervalMs * 2;
    this.nextPing = clock.now() + intervalMs;
    this.arm(clock.now());
  }

  // Re-armed at the earlier of the next ping and lastSeen + silence, instead of reset on every frame.
  private arm(now: number): void {
    const silentAt = this.host.lastSeen() + this.silenceMs;
    this.timer = this.clock.setTimeout(this.fire, Math.max(1, Math.min(this.nextPing, silentAt) - now));
  }

  private check(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    if (now - this.host.lastSeen() >= this.silenceMs) {
      this.stopped = true;
      this.host.onSilent();
      return;
    }
    const pingNow = now >= this.nextPing;
    // Pings keep their period from each one sent, as a timer re-armed at every ping would.
    if (pingNow) this.nextPing = now + this.intervalMs;
    this.arm(now);
    // After re-arming: a ping that ends the connection (a slow consumer) stops this heartbeat.
    if (pingNow) this.host.ping();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }
}

/** Start pinging every `intervalMs` and watching for silence. */
export function startHeartbeat(intervalMs: number, clock: GatewayClock, host: HeartbeatHost): Heartbeat {
  return new Beat(intervalMs, clock, host);
}
