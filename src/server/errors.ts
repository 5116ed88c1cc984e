// The gateway API's typed error: a code, a message and what to do next. A module of its own, so the
// modules that raise it (options, client-address, listen, gateway) depend on it, not on each other.

/**
 * Codes a gateway API call can fail with. `payload_too_large`: an event or state over
 * `maxEventBytes`, refused before it is stored. `address_in_use` and `address_unavailable` come from
 * `createGateway` when it cannot listen (the error carries the `port`); `unavailable` when the
 * event store (Redis) cannot be reached.
 */
export type GatewayErrorCode = 'configuration_error' | 'session_not_found' | 'gateway_closed' | 'address_in_use' | 'address_unavailable' | 'unavailable' | 'payload_too_large';

const NEXT_STEP: Record<GatewayErrorCode, string> = {
  configuration_error: 'Fix the option named in the message.',
  session_not_found: 'Publish to a session a client has joined (joining creates it).',
  gateway_closed: 'Use the gateway that replaced this one.',
  payload_too_large: 'Send less per event (split it, or send a reference to the data), or raise maxEventBytes.',
  address_in_use: 'Stop the process that holds the port, choose another port, or pass port 0 for a free one.',
  unavailable: 'The event store (Redis) is unreachable; retry after a moment, with the same idempotency key for a publish.',
  address_unavailable: 'Listen on an address this machine has (127.0.0.1 for loopback) and a port you may open (>= 1024 without privileges).',
};

/** An error raised by the gateway API (not sent on the wire): a code, a message and what to do next. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  /** What a person or program should do about it. @default a fixed sentence per code */
  readonly nextStep: string;
  /** The port `createGateway` could not listen on, for `address_in_use` and `address_unavailable`. */
  readonly port?: number;
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    extra: { readonly nextStep?: string; readonly port?: number } = {},
  ) {
    super(message);
    this.nextStep = extra.nextStep ?? NEXT_STEP[code];
    if (extra.port !== undefined) this.port = extra.port;
  }
}
