// Fleet-wide health: each node reports its own figures to the fleet's node registry every few
// seconds and keeps the fleet's totals from the answer, so `/health` and `hello_ok.health`
// describe the whole fleet without a round trip per request. A node alone has no totals to keep.
import { every, type GatewayClock } from './clock.js';
import type { FleetView, NodeRegistry, NodeReport } from './fleet.js';
import type { Logger } from 'pino';

/** The fleet as this node last saw it. */
export interface FleetHealth {
  /** The last answer, or undefined before the first one (or for a node alone). */
  view(): FleetView | undefined;
  stop(): void;
}

/** Report every `intervalMs`; nodes silent for three intervals no longer count. */
export function startFleetHealth(nodes: NodeRegistry, clock: GatewayClock, logger: Logger, intervalMs: number, report: () => NodeReport): FleetHealth {
  let last: FleetView | undefined;
  const send = (): void => {
    nodes.report(report(), intervalMs * 3).then(
      (view) => void (last = view),
      (error: unknown) => logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'fleet report failed'),
    );
  };
  send();
  const stop = every(clock, intervalMs, send, { unref: true });
  return { view: () => last, stop };
}
