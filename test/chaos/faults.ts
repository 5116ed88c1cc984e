// The fault catalogue and the schedules that draw from it. Each client lane breaks its own
// proxy; one global lane restarts (with or without the log) and drains the gateway. Every
// choice and duration comes from a seeded stream, so a seed names a schedule.
import type { Rng } from './prng.js';
import type { Lane, World } from './world.js';

export type FaultKind =
  | 'drop'
  | 'stall'
  | 'delay'
  | 'split'
  | 'refuse'
  | 'delay+drop'
  | 'restart-same-log'
  | 'restart-fresh-log'
  | 'drain';

/** Hold a fault for `ms`. Faults are meant to last a while; this is the fault, not a wait for a result. */
const hold = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Apply one proxy fault to a lane and undo it; resolves when the lane is healthy again. */
export async function proxyFault(kind: FaultKind, lane: Lane, rng: Rng): Promise<void> {
  const { proxy } = lane;
  switch (kind) {
    case 'drop':
      proxy.drop();
      return hold(rng.int(20, 300));
    case 'stall':
      // Half-open: bytes stop both ways but no FIN or RST; only heartbeats can tell.
      proxy.stall();
      await hold(rng.int(100, 1500));
      return proxy.resume();
    case 'delay':
      proxy.delay(rng.int(5, 80));
      await hold(rng.int(200, 1000));
      return proxy.delay(0);
    case 'split':
      proxy.split(rng.int(3, 200));
      await hold(rng.int(200, 800));
      return proxy.split(0);
    case 'refuse':
      proxy.refuse(true);
      proxy.drop();
      await hold(rng.int(100, 800));
      return proxy.refuse(false);
    case 'delay+drop':
      proxy.delay(rng.int(10, 60));
      await hold(rng.int(50, 200));
      proxy.drop();
      await hold(rng.int(50, 300));
      return proxy.delay(0);
    default:
      throw new Error(`not a proxy fault: ${kind}`);
  }
}

export const PROXY_FAULTS: readonly FaultKind[] = ['drop', 'stall', 'delay', 'split', 'refuse', 'delay+drop'];
export const GATEWAY_FAULTS: readonly FaultKind[] = ['restart-same-log', 'restart-fresh-log', 'drain'];

/** Apply one gateway-wide fault. */
export async function gatewayFault(kind: FaultKind, world: World, rng: Rng): Promise<void> {
  if (kind === 'restart-same-log') await world.restart(true);
  else if (kind === 'restart-fresh-log') await world.restart(false);
  else if (kind === 'drain') await world.drain(rng.int(0, 300));
  else throw new Error(`not a gateway fault: ${kind}`);
}

/** Undo every proxy fault at once: the network is healthy from here on. */
export function healAll(world: World): void {
  for (const lane of world.lanes) {
    lane.proxy.resume();
    lane.proxy.delay(0);
    lane.proxy.split(0);
    lane.proxy.refuse(false);
  }
}
