// The heartbeat watchdog: while joined, it judges liveness by wall-clock silence (any frame counts)
// against the negotiated `policy.heartbeat_ms`. After one interval of silence it pings; after two
// it presumes the socket half-open and reports `heartbeat.missed`. Deadlines are wall-clock, so a
// background tab whose timers were throttled still notices at the first tick it gets.
import type { CallbackLogicFunction } from 'xstate';
import type { GatewayMachineEvent, HeartbeatActorInput, HeartbeatCommand } from '../../machines/gateway-machine.js';
import type { SocketLink } from './socket-actor.js';
import type { ClientClock } from './types.js';

/** What the watchdog needs from the client. */
export interface HeartbeatActorDeps {
  readonly clock: ClientClock;
  readonly link: SocketLink;
}

type HeartbeatCallback = CallbackLogicFunction<HeartbeatCommand, GatewayMachineEvent, HeartbeatActorInput>;

/** One joined stretch of liveness checks: the body of the heartbeat actor (see `client-machine.ts`). */
export function runHeartbeat(deps: HeartbeatActorDeps, { input, sendBack, receive }: Parameters<HeartbeatCallback>[0]): ReturnType<HeartbeatCallback> {
  const { clock, link } = deps;
  const interval = input.heartbeatMs;
  // 0 (or absent) means the gateway does not ping: no watchdog rather than false alarms.
  if (!(interval > 0)) return undefined;
  const silenceLimit = 2 * interval;
  let timer: unknown = null;
  let pingedFor = -1;
  let missed = false;

  const arm = (delay: number): void => {
    timer = clock.setTimeout(check, Math.max(1, delay));
  };
  const ping = (): void => {
    pingedFor = link.lastSeenAt;
    link.current?.write({ type: 'ping', ts: clock.now() });
  };
  function check(): void {
    timer = null;
    if (missed) return;
    const silent = clock.now() - link.lastSeenAt;
    if (silent >= silenceLimit) {
      missed = true;
      link.suspectDead = true;
      sendBack({ type: 'heartbeat.missed' });
      return;
    }
    // Provoke traffic once per silence: a gateway that pings less often still answers a ping.
    if (silent >= interval && pingedFor !== link.lastSeenAt) ping();
    arm(silent < interval ? interval - silent : silenceLimit - silent);
  }

  receive((command) => {
    if (command.type !== 'probe') return;
    if (timer !== null) clock.clearTimeout(timer);
    check();
    if (!missed) ping();
  });
  arm(interval);
  return () => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
  };
}
