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
import type { CommandTarget, HeartbeatActorInput, HeartbeatCommand, SocketCommand } from '../../machines/actor-contracts.js';
import type { ClientClock } from './types.js';
import { assertNever } from '../protocol/assert-never.js';

/** What the watchdog needs from the client. */
export interface HeartbeatActorDeps {
  readonly clock: ClientClock;
  /** The running socket actor (the chart runs one while joined, which is when the watchdog runs). */
  readonly socket: () => CommandTarget<SocketCommand> | undefined;
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

/** One joined stretch of liveness checks: the body of the heartbeat actor (see `client-machine.ts`). */
export function runHeartbeat(deps: HeartbeatActorDeps, { input, sendBack, receive, self }: Parameters<HeartbeatCallback>[0]): ReturnType<HeartbeatCallback> {
  const { clock } = deps;
  const interval = input.heartbeatMs;
  // 0 (or absent) means the gateway does not ping: no watchdog rather than false alarms.
  if (!(interval > 0)) return undefined;
  const silenceLimit = 2 * interval;
  const wakeGap = Math.max(interval, MIN_WAKE_GAP_MS);
  let timer: unknown = null;
  let dueAt = 0;
  let pingedFor = -1;
  let missed = false;
  /** A probe waiting for its answer: any frame after `sentAt`, by `deadline`. */
  let probe: { sentAt: number; deadline: number } | null = null;
  let last = { mono: clock.now(), wall: wallOf(clock) };
  /** A check waiting for the socket actor's `heard`. */
  let asked: { fromTimer: boolean; probeNow: boolean } | null = null;
  /** When the last frame arrived, as the socket actor last said. */
  let heardAt = clock.now();

  const arm = (delay: number): void => {
    const ms = Math.max(1, delay);
    dueAt = clock.now() + ms;
    timer = clock.setTimeout(() => ask(true), ms);
  };
  const ping = (): void => {
    pingedFor = heardAt;
    // `ts` is a wire timestamp (echoed in `pong`), so it is wall-clock; no deadline reads it.
    deps.socket()?.send({ type: 'socket.send', frame: { type: 'ping', ts: Math.round(wallOf(clock)) } });
  };
  const sendProbe = (now: number): void => {
    ping();
    probe = { sentAt: now, deadline: now + interval };
  };

  /** A suspend the monotonic clock did not count, or a tick that fired long after its time. */
  function wokeUp(now: number, fromTimer: boolean): boolean {
    const wall = wallOf(clock);
    const suspended = wall - last.wall - (now - last.mono) > wakeGap;
    const late = fromTimer && now - dueAt > wakeGap;
    last = { mono: now, wall };
    return suspended || late;
  }

  /** Ask the socket actor when a frame last arrived; the check runs on its answer. */
  function ask(fromTimer: boolean, probeNow = false): void {
    timer = null;
    if (missed) return;
    asked = { fromTimer: fromTimer || asked?.fromTimer === true, probeNow: probeNow || asked?.probeNow === true };
    const socket = deps.socket();
    // Only while joined, where a socket actor always runs; without one, look again later.
    if (socket) socket.send({ type: 'socket.report_heard', replyTo: self });
    else arm(interval);
  }

  function check(fromTimer: boolean, probeNow: boolean): void {
    if (missed) return;
    const now = clock.now();
    const woke = wokeUp(now, fromTimer);
    if (probe !== null && heardAt >= probe.sentAt) probe = null;
    const silent = now - heardAt;
    if (silent >= silenceLimit || (probe !== null && now >= probe.deadline)) {
      missed = true;
      // The chart answers with `socket.terminate` to the socket actor: no closing handshake on a dead link.
      sendBack({ type: 'heartbeat.missed' });
      return;
    }
    // One probe at a time: a wake-up (or a page that became visible) asks for an answer within
    // one interval instead of trusting a socket that may have died meanwhile.
    if ((woke || probeNow) && probe === null) sendProbe(now);
    // Provoke traffic once per silence: a gateway that pings less often still answers a ping.
    else if (silent >= interval && pingedFor !== heardAt) ping();
    const untilSilence = silent < interval ? interval - silent : silenceLimit - silent;
    arm(probe === null ? untilSilence : Math.min(untilSilence, probe.deadline - now));
  }

  receive((command) => {
    switch (command.type) {
      case 'probe':
        if (timer !== null) clock.clearTimeout(timer);
        return ask(false, true);
      case 'heard': {
        heardAt = command.at;
        const pending = asked;
        asked = null;
        if (pending) check(pending.fromTimer, pending.probeNow);
        return;
      }
      default:
        return assertNever(command);
    }
  });
  arm(interval);
  return () => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
  };
}
