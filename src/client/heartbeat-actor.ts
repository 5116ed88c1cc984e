// The heartbeat watchdog: while joined, it judges liveness by silence (any frame counts) against
// the negotiated `policy.heartbeat_ms`, measured on the monotonic `clock.now()`, so a wall-clock
// step never hides a dead link. After one interval of silence it pings; after two it presumes the
// socket half-open and reports `heartbeat.missed`. A monotonic clock does not count a machine's
// suspend, so each tick also looks for a wake-up and answers it with one immediate probe.
// It never touches the connection: at each check it asks the socket actor when a frame last
// arrived (`socket.report_heard`, answered with `heard`) and has it write the pings (`socket.send`),
// so the per-event path only stamps a time in the socket actor and never involves this actor.
import type { CallbackLogicFunction } from 'xstate';
import type { GatewayMachineEvent } from '../../machines/gateway-machine.js';
import type { CommandTarget, Heard, HeartbeatActorInput, HeartbeatCommand, SocketCommand } from '../../machines/actor-contracts.js';
import type { ClientClock } from './types.js';
import { assertNever } from '../protocol/assert-never.js';

/** What the watchdog needs from the client. */
export interface HeartbeatActorDeps {
  readonly clock: ClientClock;
  /** The running socket actor (the chart runs one while joined, which is when the watchdog runs). */
  socketActor(): CommandTarget<SocketCommand> | undefined;
}

/**
 * Smallest gap that counts as a wake-up: wall time running this far ahead of monotonic time
 * between two ticks (a suspend), or a tick this late (a frozen or throttled page). The gap is the
 * heartbeat interval when that is longer, so NTP slewing and busy event loops stay quiet.
 */
export const MIN_WAKE_GAP_MS = 1000;

type HeartbeatCallback = CallbackLogicFunction<HeartbeatCommand, GatewayMachineEvent, HeartbeatActorInput>;

/** Wall-clock ms from the clock, or its monotonic time when it keeps no wall clock (then only late ticks reveal a wake-up). */
function wallOf(clock: ClientClock): number {
  return clock.wallNow ? clock.wallNow() : clock.now();
}

// A class, not a closure per step: one per joined client (bench/README.md, memory).
class Watchdog {
  private readonly silenceLimit: number;
  private readonly wakeGap: number;
  private timer: unknown = null;
  private dueAt = 0;
  private pingedFor = -1;
  private missed = false;
  /** A probe waiting for its answer: any frame after `probeSentAt`, by `probeDeadline`. */
  private probing = false;
  private probeSentAt = 0;
  private probeDeadline = 0;
  private lastMono: number;
  private lastWall: number;
  /** A check waiting for the socket actor's `heard`, and what it was for. */
  private asked = false;
  private askedFromTimer = false;
  private askedProbeNow = false;
  /** When the last frame arrived, as the socket actor last said. */
  private heardAt: number;

  constructor(
    private readonly deps: HeartbeatActorDeps,
    private readonly interval: number,
    private readonly sendBack: (event: GatewayMachineEvent) => void,
    private readonly self: CommandTarget<Heard>,
  ) {
    this.silenceLimit = 2 * interval;
    this.wakeGap = Math.max(interval, MIN_WAKE_GAP_MS);
    this.lastMono = deps.clock.now();
    this.lastWall = wallOf(deps.clock);
    this.heardAt = deps.clock.now();
  }

  command(command: HeartbeatCommand): void {
    switch (command.type) {
      case 'probe':
        if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
        return this.ask(false, true);
      case 'heard': {
        this.heardAt = command.at;
        if (!this.asked) return;
        this.asked = false;
        return this.check(this.askedFromTimer, this.askedProbeNow);
      }
      default:
        return assertNever(command);
    }
  }

  arm(delay: number): void {
    const ms = Math.max(1, delay);
    this.dueAt = this.deps.clock.now() + ms;
    this.timer = this.deps.clock.setTimeout(() => this.ask(true), ms);
  }

  stop(): void {
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private ping(): void {
    this.pingedFor = this.heardAt;
    // `ts` is a wire timestamp (echoed in `pong`), so it is wall-clock; no deadline reads it.
    this.deps.socketActor()?.send({ type: 'socket.send', frame: { type: 'ping', ts: Math.round(wallOf(this.deps.clock)) } });
  }

  /** A suspend the monotonic clock did not count, or a tick that fired long after its time. */
  private wokeUp(now: number, fromTimer: boolean): boolean {
    const wall = wallOf(this.deps.clock);
    const suspended = wall - this.lastWall - (now - this.lastMono) > this.wakeGap;
    const late = fromTimer && now - this.dueAt > this.wakeGap;
    this.lastMono = now;
    this.lastWall = wall;
    return suspended || late;
  }

  /** Ask the socket actor when a frame last arrived; the check runs on its answer. */
  private ask(fromTimer: boolean, probeNow = false): void {
    this.timer = null;
    if (this.missed) return;
    this.askedFromTimer = fromTimer || (this.asked && this.askedFromTimer);
    this.askedProbeNow = probeNow || (this.asked && this.askedProbeNow);
    this.asked = true;
    const socket = this.deps.socketActor();
    // Only while joined, where a socket actor always runs; without one, look again later.
    if (socket) socket.send({ type: 'socket.report_heard', replyTo: this.self });
    else this.arm(this.interval);
  }

  private check(fromTimer: boolean, probeNow: boolean): void {
    if (this.missed) return;
    const now = this.deps.clock.now();
    const woke = this.wokeUp(now, fromTimer);
    if (this.probing && this.heardAt >= this.probeSentAt) this.probing = false;
    const silent = now - this.heardAt;
    if (silent >= this.silenceLimit || (this.probing && now >= this.probeDeadline)) {
      this.missed = true;
      // The chart answers with `socket.terminate` to the socket actor: no closing handshake on a dead link.
      this.sendBack({ type: 'heartbeat.missed' });
      return;
    }
    // One probe at a time: a wake-up (or a page that became visible) asks for an answer within
    // one interval instead of trusting a socket that may have died meanwhile.
    if ((woke || probeNow) && !this.probing) {
      this.ping();
      this.probing = true;
      this.probeSentAt = now;
      this.probeDeadline = now + this.interval;
    }
    // Provoke traffic once per silence: a gateway that pings less often still answers a ping.
    else if (silent >= this.interval && this.pingedFor !== this.heardAt) this.ping();
    const untilSilence = silent < this.interval ? this.interval - silent : this.silenceLimit - silent;
    this.arm(!this.probing ? untilSilence : Math.min(untilSilence, this.probeDeadline - now));
  }
}

/** One joined stretch of liveness checks: the body of the heartbeat actor (see `client-machine.ts`). */
export function runHeartbeat(deps: HeartbeatActorDeps, { input, sendBack, receive, self }: Parameters<HeartbeatCallback>[0]): ReturnType<HeartbeatCallback> {
  const interval = input.heartbeatMs;
  // 0 (or absent) means the gateway does not ping: no watchdog rather than false alarms.
  if (!(interval > 0)) return undefined;
  const watchdog = new Watchdog(deps, interval, sendBack, self);
  receive((command) => watchdog.command(command));
  watchdog.arm(interval);
  return () => watchdog.stop();
}
