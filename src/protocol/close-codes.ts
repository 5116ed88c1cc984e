// Every WebSocket close code Lifeline sends, reads or reacts to by name (the RFC 6455 ones it
// meets and ours, 4000-4999, one per rejection class), and the single place that decides what a
// client does after each close.
import type { ErrorCode } from './errors.js';

/** Close codes by name. Values in 4000-4999 are ours; the 1000s are RFC 6455's. */
export const CloseCode = {
  /** RFC 6455: the peer is done (user disconnect, or the gateway ending a session on purpose). */
  Normal: 1000,
  /** RFC 6455: going away, e.g. a gateway draining for a deploy. Reconnect promptly. */
  GoingAway: 1001,
  /**
   * RFC 6455: the connection ended without a close frame (never sent on the wire). What a client
   * sees for a socket that never opened or dropped, and what it records for an attempt that
   * failed before any socket (an invalid URL, a token function that threw).
   */
  Abnormal: 1006,
  /** RFC 6455: a frame over the peer's limit (`ws` closes with it past twice `max_payload`). */
  MessageTooBig: 1009,
  /** RFC 6455: the server hit an unexpected condition (proxies and middleboxes send it too). */
  ServerError: 1011,
  /** RFC 6455 (IANA): the service is restarting. Reconnect promptly. */
  ServiceRestart: 1012,
  /** RFC 6455 (IANA): try again later; PraisonAI evicts a slow reader with it. */
  TryAgainLater: 1013,
  /** The peer sent a frame that breaks the protocol (also used for binary frames). */
  BadFrame: 4000,
  /** Heartbeat silence past twice `heartbeat_ms`. Same value as the PraisonAI gateway. */
  LivenessTimeout: 4002,
  /** Missing or rejected credentials (`auth_required`, `auth_unauthorized`). Same value as PraisonAI. */
  Unauthorized: 4003,
  /** The requested `agent_id` is not served here. */
  AgentNotFound: 4004,
  /** The page's Origin is not on the allow-list. */
  OriginNotAllowed: 4005,
  /** No common protocol version. */
  ProtocolUnsupported: 4006,
  /** No `hello` within the handshake timeout. */
  HandshakeTimeout: 4008,
  /** A frame exceeded `policy.max_payload`. */
  PayloadTooLarge: 4009,
  /** The gateway or the request is misconfigured. */
  ConfigurationError: 4010,
  /** An internal gateway fault. */
  InternalError: 4011,
  /** The connection fell behind: buffered bytes passed the policy limit. */
  SlowConsumer: 4013,
  /** The resumed session no longer exists. */
  SessionExpired: 4040,
  /** Too many connections from one address; `retry_after_seconds` says when to come back. */
  RateLimited: 4029,
  /** The gateway's event store (Redis) is unreachable; `retry_after_seconds` says when to come back. */
  Unavailable: 4503,
  /** A new session would pass a session cap; `retry_after_seconds` says when to try again. */
  SessionLimit: 4030,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** What a client does after a close. */
export type CloseAction =
  /** Stop: a person must change something (token, version, agent id, config). */
  | 'give_up'
  /** Stop and ask the app for new credentials. */
  | 'reauthenticate'
  /** Reconnect with exponential backoff. */
  | 'backoff'
  /** Reconnect at once (planned restart, or liveness failure of a single socket). */
  | 'reconnect_now';

/** The close code each wire error is sent with. */
export const CLOSE_CODE_FOR_ERROR: { readonly [C in ErrorCode]?: CloseCode } = {
  auth_required: CloseCode.Unauthorized,
  auth_unauthorized: CloseCode.Unauthorized,
  protocol_unsupported: CloseCode.ProtocolUnsupported,
  agent_not_found: CloseCode.AgentNotFound,
  rate_limited: CloseCode.RateLimited,
  session_limit: CloseCode.SessionLimit,
  origin_not_allowed: CloseCode.OriginNotAllowed,
  configuration_error: CloseCode.ConfigurationError,
  bad_frame: CloseCode.BadFrame,
  payload_too_large: CloseCode.PayloadTooLarge,
  handshake_timeout: CloseCode.HandshakeTimeout,
  session_expired: CloseCode.SessionExpired,
  slow_consumer: CloseCode.SlowConsumer,
  internal_error: CloseCode.InternalError,
  unavailable: CloseCode.Unavailable,
};

/** One row per close code: the client's reaction, and the reason shown to people. */
export const CLOSE_CODE_TABLE: ReadonlyArray<{ code: number; name: string; action: CloseAction; meaning: string }> = [
  { code: CloseCode.Normal, name: 'Normal', action: 'backoff', meaning: 'Closed on purpose. After a user disconnect the client stays down; if the gateway closed, it reconnects.' },
  { code: CloseCode.GoingAway, name: 'GoingAway', action: 'reconnect_now', meaning: 'Gateway draining or restarting; reconnect promptly (after the draining hint if one came).' },
  { code: CloseCode.Abnormal, name: 'Abnormal', action: 'backoff', meaning: 'No close frame: the socket never opened, or the link dropped.' },
  { code: CloseCode.MessageTooBig, name: 'MessageTooBig', action: 'backoff', meaning: 'A frame over the peer\'s limit; the client drops the largest unacknowledged message instead of resending it.' },
  { code: CloseCode.ServerError, name: 'ServerError', action: 'backoff', meaning: 'Server or middlebox fault.' },
  { code: CloseCode.ServiceRestart, name: 'ServiceRestart', action: 'reconnect_now', meaning: 'Service restarting; reconnect promptly.' },
  { code: CloseCode.TryAgainLater, name: 'TryAgainLater', action: 'backoff', meaning: 'Overloaded (PraisonAI: a slow reader evicted).' },
  { code: CloseCode.BadFrame, name: 'BadFrame', action: 'backoff', meaning: 'A frame broke the protocol.' },
  { code: CloseCode.LivenessTimeout, name: 'LivenessTimeout', action: 'reconnect_now', meaning: 'Heartbeat silence; the socket was presumed dead.' },
  { code: CloseCode.Unauthorized, name: 'Unauthorized', action: 'reauthenticate', meaning: 'Credentials missing or rejected.' },
  { code: CloseCode.AgentNotFound, name: 'AgentNotFound', action: 'give_up', meaning: 'Unknown agent_id.' },
  { code: CloseCode.OriginNotAllowed, name: 'OriginNotAllowed', action: 'give_up', meaning: 'Origin not on the allow-list.' },
  { code: CloseCode.ProtocolUnsupported, name: 'ProtocolUnsupported', action: 'give_up', meaning: 'No common protocol version.' },
  { code: CloseCode.HandshakeTimeout, name: 'HandshakeTimeout', action: 'backoff', meaning: 'No hello within the handshake timeout.' },
  { code: CloseCode.PayloadTooLarge, name: 'PayloadTooLarge', action: 'backoff', meaning: 'A frame exceeded max_payload.' },
  { code: CloseCode.ConfigurationError, name: 'ConfigurationError', action: 'give_up', meaning: 'Misconfiguration on either side.' },
  { code: CloseCode.InternalError, name: 'InternalError', action: 'backoff', meaning: 'Gateway fault.' },
  { code: CloseCode.SlowConsumer, name: 'SlowConsumer', action: 'backoff', meaning: 'Evicted for not reading fast enough; resume from the cursor.' },
  { code: CloseCode.RateLimited, name: 'RateLimited', action: 'backoff', meaning: 'Too many connections; wait retry_after_seconds first.' },
  { code: CloseCode.SessionLimit, name: 'SessionLimit', action: 'backoff', meaning: 'Too many sessions; resume an existing one, or wait retry_after_seconds first.' },
  { code: CloseCode.SessionExpired, name: 'SessionExpired', action: 'reconnect_now', meaning: 'Session gone; reconnect as a new session and resync.' },
  { code: CloseCode.Unavailable, name: 'Unavailable', action: 'backoff', meaning: 'Event store unreachable; nothing was lost. Wait retry_after_seconds, then resume (any node).' },
];

const actionByCode: ReadonlyMap<number, CloseAction> = new Map(CLOSE_CODE_TABLE.map((row) => [row.code, row.action]));

/**
 * Decide what a client does after a close: its row in {@link CLOSE_CODE_TABLE}. Codes without a
 * row (1005, unknown 4xxx, …) back off: giving up on an error we do not understand would strand
 * the user.
 */
export function classifyClose(code: number): CloseAction {
  return actionByCode.get(code) ?? 'backoff';
}

/**
 * Whether the session is gone after this close (4040 `session_expired`): the client forgets its
 * session id, so the next handshake starts a new session and reports the lost cursor as a gap.
 */
export function closeEndsSession(code: number): boolean {
  return code === CloseCode.SessionExpired;
}

/** Closes whose refusal carries `retry_after_seconds`: the server asked for a wait. */
const SERVER_WAIT_CODES: ReadonlySet<number> = new Set([CloseCode.RateLimited, CloseCode.SessionLimit, CloseCode.Unavailable]);

/**
 * Whether this close asked the client to wait (`rate_limited`, `session_limit`, `unavailable`):
 * nothing the client sees (a visible page) may cut that wait short.
 */
export function closeAsksToWait(code: number): boolean {
  return SERVER_WAIT_CODES.has(code);
}

/**
 * Whether this close says the last frame was too big (1009, or our 4009): the client then drops
 * the largest unacknowledged message instead of resending it after every rejoin.
 */
export function closeMeansTooBig(code: number): boolean {
  return code === CloseCode.MessageTooBig || code === CloseCode.PayloadTooLarge;
}
