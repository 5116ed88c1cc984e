"""The client's options checked up front: ``invalid_options`` at construction beats a confusing
failure deep inside a reconnect loop."""
from __future__ import annotations

from typing import Awaitable, Callable, Optional, Tuple, Union

from .backoff import Backoff
from .errors import GatewayConnectError
from .gateway_urls import GatewayUrl, gateway_url_problem
from .protocol import PRAISONAI_MARKER

Token = Union[None, str, Callable[[], Union[str, None, Awaitable[Optional[str]]]]]
"""A token, or a function (sync or async) called before each connection attempt."""

DEFAULT_CAPABILITIES: Tuple[str, ...] = ("ack", "batch", "epoch")


def validate_options(
    url: GatewayUrl,
    agent_id: str,
    token: Token,
    reconnect: Union[Backoff, bool],
    protocol: Tuple[int, int],
    capabilities: Tuple[str, ...],
    handshake_timeout: float,
    outbox_max_messages: int,
    max_buffered_events: int,
) -> None:
    """``invalid_options`` up front beats a confusing failure deep inside a reconnect loop."""

    def fail(message: str) -> None:
        raise GatewayConnectError("invalid_options", message, "do_not_retry")

    url_problem = gateway_url_problem(url)
    if url_problem is not None:
        fail(url_problem)
    if not isinstance(agent_id, str) or agent_id == "":
        fail("agent_id must be a non-empty string.")
    if token is not None and not isinstance(token, str) and not callable(token):
        fail("token must be a string, None, or a function returning one.")
    if not isinstance(reconnect, (Backoff, bool)):
        fail("reconnect must be a Backoff, True or False.")
    if isinstance(reconnect, Backoff):
        if reconnect.initial < 0 or reconnect.max < 0 or reconnect.probe_window < 0 or reconnect.multiplier < 1 or not 0 <= reconnect.jitter <= 1 or reconnect.min_uptime < 0:
            fail(f"reconnect has an out-of-range field: {reconnect!r}.")
        if reconnect.max_attempts is not None and reconnect.max_attempts < 0:
            fail("reconnect.max_attempts must be >= 0 or None.")
    low, high = protocol
    if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
        fail(f"protocol must be two integers with 0 <= min <= max; got {protocol!r}.")
    if isinstance(capabilities, str) or not all(isinstance(c, str) for c in capabilities):
        fail("capabilities must be a tuple of strings.")
    if PRAISONAI_MARKER in capabilities:
        # A gateway in ``auto`` dialect would answer it in PraisonAI's frames.
        fail(
            f'capabilities must not list "{PRAISONAI_MARKER}": it marks a PraisonAI client, and a Lifeline gateway '
            "would answer in PraisonAI's frames (PROTOCOL.md section 8). Leave it out; this client reads those "
            "frames from a PraisonAI gateway without it."
        )
    if not handshake_timeout > 0:
        fail("handshake_timeout must be > 0 seconds.")
    if not (isinstance(outbox_max_messages, int) and outbox_max_messages >= 1):
        fail("outbox_max_messages must be an integer >= 1.")
    if not (isinstance(max_buffered_events, int) and max_buffered_events >= 1):
        fail("max_buffered_events must be an integer >= 1.")
