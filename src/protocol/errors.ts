// Error codes and recovery steps: the vocabulary every refusal and failure is expressed in.
// One table decides what each code means for a client, so no caller guesses.

/** Codes a gateway sends in `hello_error` and `error` frames. */
export const WIRE_ERROR_CODES = [
  'auth_required',
  'auth_unauthorized',
  'protocol_unsupported',
  'agent_not_found',
  'rate_limited',
  'origin_not_allowed',
  'configuration_error',
  'bad_frame',
  'payload_too_large',
  'handshake_timeout',
  'session_expired',
  // A new session would pass a cap (per credentials, per address or in total).
  'session_limit',
  // Beyond the handshake: a connection evicted for not reading, a frame the gateway could not
  // serve, and a method used before joining.
  'slow_consumer',
  'internal_error',
  'not_joined',
  // The gateway's event store (Redis) is unreachable: nothing was lost, come back later.
  'unavailable',
  // A resent message whose first copy is still being applied (by this node or another): keep it
  // and send it again under the same id after retry_after_seconds. Never a duplicate ack before
  // some node finished applying it.
  'message_in_flight',
  // HTTP binding: a POST names a stream that is gone. Its frames were not handled; reconnect and
  // resend (PROTOCOL.md section 9).
  'unknown_connection',
] as const;
/** A code a gateway sends on the wire (`hello_error`, `error`). */
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

/** Codes the client raises on its own, never sent on the wire. */
export const CLIENT_ERROR_CODES = [
  /** The outbox is full while offline; the message was not queued. */
  'outbox_full',
  /** `maxAttempts` reconnects failed in a row. */
  'retries_exhausted',
  /** The gateway sent a frame that is not valid JSON or breaks the schema. */
  'bad_server_frame',
  /** The heartbeat watchdog saw no traffic within the silence window. */
  'heartbeat_timeout',
  /** The socket closed (or never opened) for a transport reason. */
  'connection_lost',
  /** The user called `disconnect()`; pending sends are rejected with this. */
  'client_closed',
  /** Options passed to `createGatewayClient` are invalid. */
  'invalid_options',
  /** An app listener (`onEvent`, `onState`, …) threw; the others were still called. */
  'listener_error',
  /** `send()` content cannot be encoded as JSON (a cycle, a BigInt); nothing was queued. */
  'invalid_message',
  /** An attempt's socket never opened; the message says why (ECONNREFUSED, DNS, HTTP status, TLS, or hidden by the browser). */
  'connect_failed',
  /** `connect()` gave up waiting (its deadline or failure budget); the client keeps trying. */
  'connect_timeout',
  /** Notice: an `events()` loop fell `maxBufferedEvents` behind; the client paused and rejoins once it drains. */
  'consumer_overflow',
  /** Notice: nobody took the first `maxBufferedEvents` events (no `events()` loop, no `onEvent`); they were not kept. */
  'events_dropped',
] as const;
/** A code a client reports about itself (a timeout, a bad server frame, its options). */
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/** Every code {@link ERROR_INFO} describes. */
export type ErrorCode = WireErrorCode | ClientErrorCode;

/** What the receiver of an error should do next. */
export const RECOVERY_STEPS = [
  'reauthenticate',
  'upgrade_client',
  'downgrade_client',
  'wait_then_retry',
  'do_not_retry',
] as const;
/** One of {@link RECOVERY_STEPS}: what to do about an error. */
export type RecoveryStep = (typeof RECOVERY_STEPS)[number];

/** What a code means for whoever meets it: {@link ERROR_INFO}'s entries. */
export interface ErrorInfo {
  readonly recoverable: boolean;
  readonly nextStep: RecoveryStep;
  /** One line a person can act on. */
  readonly hint: string;
}

/** The meaning of every code: whether retrying can help, the default next step, and what to do. */
export const ERROR_INFO: { readonly [C in ErrorCode]: ErrorInfo } = {
  auth_required: { recoverable: false, nextStep: 'reauthenticate', hint: 'Pass a token (hello.token or ?token=).' },
  auth_unauthorized: { recoverable: false, nextStep: 'reauthenticate', hint: 'The token or session is not valid for this agent; get a new token or start a new session.' },
  protocol_unsupported: { recoverable: false, nextStep: 'upgrade_client', hint: 'No common protocol version; see next_step for which side to change.' },
  agent_not_found: { recoverable: false, nextStep: 'do_not_retry', hint: 'Check agent_id against the agents this gateway serves.' },
  rate_limited: { recoverable: true, nextStep: 'wait_then_retry', hint: 'Retry after retry_after_seconds.' },
  origin_not_allowed: { recoverable: false, nextStep: 'do_not_retry', hint: "Add this page's Origin to the gateway's allow-list." },
  configuration_error: { recoverable: false, nextStep: 'do_not_retry', hint: 'The gateway or client is misconfigured; fix the configuration.' },
  bad_frame: { recoverable: true, nextStep: 'do_not_retry', hint: 'The frame was not understood; fix the sender. The connection stays open unless it was the hello.' },
  payload_too_large: { recoverable: true, nextStep: 'do_not_retry', hint: 'Keep frames under policy.max_payload bytes.' },
  handshake_timeout: { recoverable: true, nextStep: 'wait_then_retry', hint: 'Send hello promptly after the socket opens.' },
  session_expired: { recoverable: true, nextStep: 'wait_then_retry', hint: 'The session is gone; reconnect without session_id and resync.' },
  session_limit: { recoverable: true, nextStep: 'wait_then_retry', hint: 'Too many sessions for these credentials, this address or this gateway; resume an existing session (send its session_id), or retry after retry_after_seconds once idle ones expire.' },
  slow_consumer: { recoverable: true, nextStep: 'wait_then_retry', hint: 'The client fell too far behind; reconnect and resume from the cursor.' },
  internal_error: { recoverable: true, nextStep: 'wait_then_retry', hint: 'A gateway fault; retry with backoff.' },
  not_joined: { recoverable: true, nextStep: 'wait_then_retry', hint: 'Send hello (or join) before other methods.' },
  unavailable: { recoverable: true, nextStep: 'wait_then_retry', hint: "The gateway's event store is unreachable; nothing was lost. Retry after retry_after_seconds (another node may serve you)." },
  message_in_flight: { recoverable: true, nextStep: 'wait_then_retry', hint: 'The message is being applied; keep it and send it again under the same id after retry_after_seconds.' },
  unknown_connection: { recoverable: true, nextStep: 'wait_then_retry', hint: 'The HTTP stream this POST named is gone and its frames were not handled; open a new stream (the outbox resends them).' },
  outbox_full: { recoverable: true, nextStep: 'wait_then_retry', hint: 'Too many unsent messages while offline; wait for the connection or raise outbox.maxMessages.' },
  retries_exhausted: { recoverable: false, nextStep: 'do_not_retry', hint: 'Reconnect attempts hit reconnect.maxAttempts; call connect() to try again.' },
  bad_server_frame: { recoverable: true, nextStep: 'wait_then_retry', hint: 'The gateway sent a frame outside the protocol; the client reconnects.' },
  heartbeat_timeout: { recoverable: true, nextStep: 'wait_then_retry', hint: 'No traffic within the heartbeat window; the client reconnects.' },
  connection_lost: { recoverable: true, nextStep: 'wait_then_retry', hint: 'The network dropped; the client reconnects with backoff.' },
  client_closed: { recoverable: false, nextStep: 'do_not_retry', hint: 'disconnect() was called; call connect() again to resume.' },
  invalid_options: { recoverable: false, nextStep: 'do_not_retry', hint: 'Fix the options passed to createGatewayClient.' },
  consumer_overflow: { recoverable: true, nextStep: 'wait_then_retry', hint: 'Nothing is lost: the client rejoins from its cursor once the loop has read down to half the bound. Read faster or raise maxBufferedEvents.' },
  events_dropped: { recoverable: true, nextStep: 'do_not_retry', hint: 'Open events() (or add onEvent) before connect(); a later events() loop starts from the next event.' },
  connect_failed: { recoverable: true, nextStep: 'wait_then_retry', hint: 'Check the URL (host, port, path, ws/wss) and that the gateway runs; the message names the cause. The client retries.' },
  connect_timeout: { recoverable: true, nextStep: 'wait_then_retry', hint: 'Not joined in time; the message names the last cause. The client keeps trying until disconnect().' },
  invalid_message: { recoverable: true, nextStep: 'do_not_retry', hint: 'Send JSON-serialisable content (no cycles, no BigInt).' },
  listener_error: { recoverable: true, nextStep: 'do_not_retry', hint: 'A listener threw (see error.cause); fix it. Delivery to everyone else went on.' },
};

const knownCodes: ReadonlySet<string> = new Set(Object.keys(ERROR_INFO));

/** True for a code this package knows. */
export function isKnownErrorCode(code: string): code is ErrorCode {
  return knownCodes.has(code);
}

/**
 * Whether a client may retry after this code. Unknown codes are treated as recoverable: a newer
 * gateway may add codes, and giving up on an unknown transient error is worse than backing off.
 */
export function isRecoverable(code: string): boolean {
  return isKnownErrorCode(code) ? ERROR_INFO[code].recoverable : true;
}

/** The default next step for a code (unknown codes: `wait_then_retry`). */
export function defaultNextStep(code: string): RecoveryStep {
  return isKnownErrorCode(code) ? ERROR_INFO[code].nextStep : 'wait_then_retry';
}

/**
 * Whether a handshake refusal ends all connection attempts. Any step other than
 * `wait_then_retry` needs a person (new token, other client version, fixed config), and so does a
 * code that is not recoverable. Everything else backs off and retries.
 */
export function isTerminal(code: string, nextStep: string | undefined): boolean {
  if (!isRecoverable(code)) return true;
  return nextStep !== undefined && nextStep !== 'wait_then_retry' && (RECOVERY_STEPS as readonly string[]).includes(nextStep);
}

/** A plain, serialisable description of an error, as carried by `hello_error` and `error`. */
export interface ProtocolErrorShape {
  readonly code: string;
  readonly message: string;
  readonly next_step: RecoveryStep | string;
  readonly retry_after_seconds?: number;
}

/**
 * Why a client could not connect or stopped, as a plain serialisable value: what the client's
 * chart keeps in its context and its `GatewayConnectError` carries. Here, beside the codes and
 * steps it is made of, so the chart depends on the protocol only.
 */
export interface ConnectErrorData {
  /** A wire code (`auth_required`, `protocol_unsupported`, …), a client code (`outbox_full`, …), or a newer gateway's code. */
  readonly code: ErrorCode | (string & {});
  readonly message: string;
  /** What to do next (`reauthenticate`, `upgrade_client`, `downgrade_client`, `wait_then_retry`, `do_not_retry`). */
  readonly nextStep: RecoveryStep | (string & {});
  /** The server's `retry_after_seconds`, in ms, when it sent one. */
  readonly retryAfterMs?: number;
  /** The WebSocket close code that ended the connection, when one did. */
  readonly closeCode?: number;
}
