// The parts a client is assembled from, each chosen once when it is created: the chart with its
// actors plugged in, the replay tracker, and the transports its socket actor connects over.
// `createGatewayClient` always takes these defaults; the seam is internal (no entry point exports
// it, and it is no option), so a variant is assembled with `assembleGatewayClient`, as the
// deterministic simulation does to plant its deliberate bugs.
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../../machines/gateway-machine.js';
import type { TransportName } from '../../machines/transport-fallback.js';
import { assertNever } from '../protocol/assert-never.js';
import { clientMachine, type ClientMachine } from './client-machine.js';
import { createGapTracker } from './gap-tracker.js';
import { httpTransport } from './http-transport.js';
import { DEFAULT_OUTBOX_MAX_MESSAGES, systemClock } from './options.js';
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
   * The transport of the client's connections by name, made once per name the client uses: where
   * the transports plug in. The socket actor, the chart and everything above them stay the same.
   */
  readonly createTransport: (name: TransportName, options: GatewayClientOptions) => ClientTransport;
}

/**
 * Frames the HTTP transport lets wait behind its POST in flight, beyond the outbox's bound: room
 * for pings, a resync and a legacy join, so a flush of a full outbox always fits.
 */
const POST_QUEUE_SLACK = 64;

/** The built-in transports: WebSocket over the `WebSocket` option, HTTP over the global `fetch`. */
export function defaultTransport(name: TransportName, options: GatewayClientOptions): ClientTransport {
  switch (name) {
    case 'websocket':
      return webSocketTransport(options.WebSocket);
    case 'http':
      return httpTransport({
        clock: options.clock ?? systemClock,
        deadlineMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
        maxQueuedFrames: (options.outbox?.maxMessages ?? DEFAULT_OUTBOX_MAX_MESSAGES) + POST_QUEUE_SLACK,
        // Looked up per client, so a fetch installed after this module loaded (a polyfill) is used;
        // bound, since a browser's fetch called on another object throws "Illegal invocation".
        fetch: typeof globalThis.fetch === 'function' ? globalThis.fetch.bind(globalThis) : undefined,
      });
    default:
      return assertNever(name);
  }
}

/** The parts every client of `createGatewayClient` is built from. */
export const DEFAULT_CLIENT_PARTS: ClientParts = {
  machine: clientMachine,
  createTracker: createGapTracker,
  createTransport: defaultTransport,
};
