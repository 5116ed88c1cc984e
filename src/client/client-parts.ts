// The parts a client is assembled from, each chosen once when it is created: the chart with its
// actors plugged in, and the replay tracker. `createGatewayClient` always takes these defaults; the
// seam is internal (no entry point exports it, and it is no option), so a variant is assembled
// with `assembleGatewayClient`, as the deterministic simulation does to plant its deliberate bugs.
import { clientMachine, type ClientMachine } from './client-machine.js';
import { createGapTracker } from './gap-tracker.js';

/** What a client is built from. */
export interface ClientParts {
  /** The chart; a variant comes from `clientMachine.provide(...)`, made once, not per client. */
  readonly machine: ClientMachine;
  /** Makes the client's tracker, once: the per-event path calls the tracker it returns directly. */
  readonly createTracker: typeof createGapTracker;
}

/** The parts every client of `createGatewayClient` is built from. */
export const DEFAULT_CLIENT_PARTS: ClientParts = { machine: clientMachine, createTracker: createGapTracker };
