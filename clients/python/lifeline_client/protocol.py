"""The protocol vocabulary the client needs: versions, error codes, recovery steps and the close
code table. Mirrors src/protocol/{versions,errors,close-codes}.ts; no I/O here."""
from __future__ import annotations

from typing import Dict, Literal, Mapping, Optional

PROTOCOL_VERSION = 2
"""The newest protocol version this client speaks."""
MIN_PROTOCOL_VERSION = 1
"""The oldest protocol version this client still speaks."""

CloseAction = Literal["give_up", "reauthenticate", "backoff", "reconnect_now"]

MAX_SERVER_FRAME_BYTES = 16 * 1024 * 1024
"""Largest frame the client reads from a gateway, in bytes (``websockets``' ``max_size``): the
limit both clients share (src/protocol/frame-limits.ts). Not ``policy.max_payload``, which limits
frames to the gateway: a legal ``batch`` or ``snapshot`` may be larger."""
MAX_SERVER_FRAME_DEPTH = 2048
"""Deepest nesting of arrays and objects the client reads in a gateway frame (``{}`` is 1); a
deeper frame is refused as ``bad_server_frame`` and skipped (frame_decoder.py)."""

PRAISONAI_MARKER = "streaming"
"""The capability that marks a PraisonAI client in ``hello`` (PROTOCOL.md sections 2 and 8): a
Lifeline gateway in ``auto`` dialect answers it in PraisonAI's frames, so this client refuses it."""

# Close codes by name: the names of CloseCode in src/protocol/close-codes.ts, in SCREAMING_SNAKE
# with a CLOSE_ prefix (tests/test_protocol_tables.py checks them against the vectors). Every
# module uses these names; no bare close code appears outside this table.
CLOSE_NORMAL = 1000
"""RFC 6455: the peer is done (user disconnect, or the gateway ending a session on purpose)."""
CLOSE_GOING_AWAY = 1001
"""RFC 6455: going away (a gateway draining for a deploy). Reconnect promptly."""
CLOSE_ABNORMAL = 1006
"""RFC 6455: the connection ended without a close frame (never sent on the wire): a socket that
never opened or dropped, and an attempt that failed before any socket."""
CLOSE_MESSAGE_TOO_BIG = 1009
"""RFC 6455 "message too big": what ``websockets``, ``ws`` and most servers send for a frame over their limit."""
CLOSE_SERVER_ERROR = 1011
"""RFC 6455: the server hit an unexpected condition."""
CLOSE_SERVICE_RESTART = 1012
"""RFC 6455 (IANA): the service is restarting. Reconnect promptly."""
CLOSE_TRY_AGAIN_LATER = 1013
"""RFC 6455 (IANA): try again later; PraisonAI evicts a slow reader with it."""
CLOSE_BAD_FRAME = 4000
CLOSE_LIVENESS_TIMEOUT = 4002
CLOSE_UNAUTHORIZED = 4003
CLOSE_AGENT_NOT_FOUND = 4004
CLOSE_ORIGIN_NOT_ALLOWED = 4005
CLOSE_PROTOCOL_UNSUPPORTED = 4006
CLOSE_HANDSHAKE_TIMEOUT = 4008
CLOSE_PAYLOAD_TOO_LARGE = 4009
CLOSE_CONFIGURATION_ERROR = 4010
CLOSE_INTERNAL_ERROR = 4011
CLOSE_SLOW_CONSUMER = 4013
CLOSE_RATE_LIMITED = 4029
CLOSE_SESSION_LIMIT = 4030
CLOSE_SESSION_EXPIRED = 4040
CLOSE_UNAVAILABLE = 4503

# Closes whose refusal carries retry_after_seconds: a visible page must not cut that wait short.
SERVER_WAIT_CLOSE_CODES = frozenset({CLOSE_RATE_LIMITED, CLOSE_SESSION_LIMIT, CLOSE_UNAVAILABLE})

# Closes that say the last frame was too big: the client drops the largest unacknowledged message
# instead of resending it after every rejoin (closeMeansTooBig in close-codes.ts).
TOO_BIG_CLOSE_CODES = frozenset({CLOSE_MESSAGE_TOO_BIG, CLOSE_PAYLOAD_TOO_LARGE})


def close_means_too_big(code: int) -> bool:
    """Whether this close says the last frame was too big (1009, or our 4009)."""
    return code in TOO_BIG_CLOSE_CODES


CLOSE_CODE_FOR_ERROR: Mapping[str, int] = {
    "auth_required": CLOSE_UNAUTHORIZED,
    "auth_unauthorized": CLOSE_UNAUTHORIZED,
    "protocol_unsupported": CLOSE_PROTOCOL_UNSUPPORTED,
    "agent_not_found": CLOSE_AGENT_NOT_FOUND,
    "rate_limited": CLOSE_RATE_LIMITED,
    "session_limit": CLOSE_SESSION_LIMIT,
    "origin_not_allowed": CLOSE_ORIGIN_NOT_ALLOWED,
    "configuration_error": CLOSE_CONFIGURATION_ERROR,
    "bad_frame": CLOSE_BAD_FRAME,
    "payload_too_large": CLOSE_PAYLOAD_TOO_LARGE,
    "handshake_timeout": CLOSE_HANDSHAKE_TIMEOUT,
    "session_expired": CLOSE_SESSION_EXPIRED,
    "slow_consumer": CLOSE_SLOW_CONSUMER,
    "internal_error": CLOSE_INTERNAL_ERROR,
    "unavailable": CLOSE_UNAVAILABLE,
}
"""The close code each wire error is sent with (PROTOCOL.md section 6)."""

CLOSE_CODE_TABLE: Mapping[int, CloseAction] = {
    CLOSE_NORMAL: "backoff",
    CLOSE_GOING_AWAY: "reconnect_now",
    CLOSE_ABNORMAL: "backoff",
    CLOSE_MESSAGE_TOO_BIG: "backoff",
    CLOSE_SERVER_ERROR: "backoff",
    CLOSE_SERVICE_RESTART: "reconnect_now",
    CLOSE_TRY_AGAIN_LATER: "backoff",
    CLOSE_BAD_FRAME: "backoff",
    CLOSE_LIVENESS_TIMEOUT: "reconnect_now",
    CLOSE_UNAUTHORIZED: "reauthenticate",
    CLOSE_AGENT_NOT_FOUND: "give_up",
    CLOSE_ORIGIN_NOT_ALLOWED: "give_up",
    CLOSE_PROTOCOL_UNSUPPORTED: "give_up",
    CLOSE_HANDSHAKE_TIMEOUT: "backoff",
    CLOSE_PAYLOAD_TOO_LARGE: "backoff",
    CLOSE_CONFIGURATION_ERROR: "give_up",
    CLOSE_INTERNAL_ERROR: "backoff",
    CLOSE_SLOW_CONSUMER: "backoff",
    CLOSE_RATE_LIMITED: "backoff",
    CLOSE_SESSION_LIMIT: "backoff",
    CLOSE_SESSION_EXPIRED: "reconnect_now",
    CLOSE_UNAVAILABLE: "backoff",
}
"""What the client does after each close code; the same table as close-codes.ts."""


def classify_close(code: int) -> CloseAction:
    """A code without a row (1005, unknown 4xxx, ...) backs off: giving up on an error we do not
    understand would strand the user."""
    return CLOSE_CODE_TABLE.get(code, "backoff")


RECOVERY_STEPS = ("reauthenticate", "upgrade_client", "downgrade_client", "wait_then_retry", "do_not_retry")

# code -> (recoverable, next step); the same table as ERROR_INFO in src/protocol/errors.ts.
_ERROR_INFO: Dict[str, "tuple[bool, str]"] = {
    "auth_required": (False, "reauthenticate"),
    "auth_unauthorized": (False, "reauthenticate"),
    "protocol_unsupported": (False, "upgrade_client"),
    "agent_not_found": (False, "do_not_retry"),
    "rate_limited": (True, "wait_then_retry"),
    "origin_not_allowed": (False, "do_not_retry"),
    "configuration_error": (False, "do_not_retry"),
    "bad_frame": (True, "do_not_retry"),
    "payload_too_large": (True, "do_not_retry"),
    "handshake_timeout": (True, "wait_then_retry"),
    "session_expired": (True, "wait_then_retry"),
    "session_limit": (True, "wait_then_retry"),
    "slow_consumer": (True, "wait_then_retry"),
    "internal_error": (True, "wait_then_retry"),
    "not_joined": (True, "wait_then_retry"),
    "unavailable": (True, "wait_then_retry"),
    "message_in_flight": (True, "wait_then_retry"),
    "unknown_connection": (True, "wait_then_retry"),
    "invalid_message": (True, "do_not_retry"),
    "connect_failed": (True, "wait_then_retry"),
    "connect_timeout": (True, "wait_then_retry"),
    "outbox_full": (True, "wait_then_retry"),
    "retries_exhausted": (False, "do_not_retry"),
    "bad_server_frame": (True, "wait_then_retry"),
    "heartbeat_timeout": (True, "wait_then_retry"),
    "connection_lost": (True, "wait_then_retry"),
    "client_closed": (False, "do_not_retry"),
    "invalid_options": (False, "do_not_retry"),
    "listener_error": (True, "do_not_retry"),
    "consumer_overflow": (True, "wait_then_retry"),
    "events_dropped": (True, "do_not_retry"),
}


def is_recoverable(code: str) -> bool:
    """Unknown codes are recoverable: a newer gateway may add transient ones."""
    info = _ERROR_INFO.get(code)
    return True if info is None else info[0]


def default_next_step(code: str) -> str:
    """The default next step for a code (unknown codes: ``wait_then_retry``)."""
    info = _ERROR_INFO.get(code)
    return "wait_then_retry" if info is None else info[1]


def is_terminal(code: str, next_step: Optional[str]) -> bool:
    """Whether a handshake refusal ends all attempts: a step other than ``wait_then_retry`` needs a person."""
    if not is_recoverable(code):
        return True
    return next_step is not None and next_step != "wait_then_retry" and next_step in RECOVERY_STEPS


MAX_SERVER_HINT_MS = 300_000
"""Ceiling on every delay a server dictates (``retry_after_seconds``, ``reconnect_after_ms``,
``policy.heartbeat_ms``): a huge or hostile hint must not park the client for days or turn a
timer into a hot loop. The same 5 minutes as the TypeScript client."""


def clamp_hint_ms(value: float) -> float:
    """A server hint in ms, clamped to ``0..MAX_SERVER_HINT_MS`` (NaN counts as 0)."""
    if value != value:  # NaN
        return 0
    return min(MAX_SERVER_HINT_MS, max(0, value))


MAX_SEQ = 2**53 - 2
"""The largest seq or cursor the protocol allows: a safe integer with room for ``+1``."""
