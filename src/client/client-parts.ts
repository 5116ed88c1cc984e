// The parts a client is assembled from, each chosen once when it is created: the chart with its
// actors plugged in, the replay tracker, and the transport its socket actor connects over.
// `createGatewayClient` always takes these defaults; the seam is internal (no entry point exports
// it, and it is no option), so a variant is assembled with `assembleGatewayClient`, as the
// deterministic simulation does to plant its deliberate bugs.
import { clientMachine, type ClientMachine } from './client-machine.js';
import { createGapTracker } from './gap-tracker.js';
import type { ClientTransport } from './transport.js';
import type { GatewayClientOptions } from './types.js';
import { webSocketTransport } from './websocket-transport.js';

/** What a client is built from. */
export interface ClientParts {
  /** The chart; a variant comes from `clientMachine.provide(...)`, made once, not per client. */
  readonly machine: ClientMachine;
  /** Makes the client's tracker, once: the per-event path calls the tracker it returns directly. */
  readonly createTracker: typeof createGapTracker;
  /**
   * The transport of the client's connections: the one place another transport (HTTP, say) plugs
   * in. The socket actor, the chart and everything above them stay the same.
   */
  readonly createTransport: (options: GatewayClientOptions) => ClientTransport;
}

/** The parts every client of `createGatewayClient` is built from. */
export const DEFAULT_CLIENT_PARTS: ClientParts = {
  machine: clientMachine,
  createTracker: createGapTracker,
  createTransport: (options) => webSocketTransport(options.WebSocket),
};
