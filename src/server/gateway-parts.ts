// The parts a gateway is assembled from, each chosen once when it starts: the outbox every
// connection sends through, and the resume rule every join follows. `createGateway` always takes
// these defaults; the seam is internal (no entry point exports it, and it is no option), so a
// variant is assembled with `assembleGateway`, as the deterministic simulation does to plant its
// deliberate bugs.
import { createOutbox } from './outbox.js';
import { planResume } from './resume-plan.js';

/** What a gateway is built from. */
export interface GatewayParts {
  /** Makes each connection's outbox, once per handshake: the send path calls the outbox directly. */
  readonly createOutbox: typeof createOutbox;
  /** Decides a join's replay and gap (PROTOCOL.md section 4). */
  readonly planResume: typeof planResume;
}

/** The parts every gateway of `createGateway` is built from. */
export const DEFAULT_GATEWAY_PARTS: GatewayParts = { createOutbox, planResume };
