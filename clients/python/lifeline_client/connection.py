"""One socket's life (``Connection``), and what the socket actor and its frame router need from
the client around them (``SocketHost``): plain callables, so neither reads the client's state."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping, Optional, Tuple, Union

from .credentials import TokenPlacement, redact_tokens, scrub_secret
from .errors import GatewayConnectError
from .frames import ClientFrame, HelloFrame, JoinFrame
from .gap_tracker import GapTracker
from .gateway_terms import GatewayTerms
from .types import CloseInfo, SessionSnapshot

Frame = ClientFrame


@dataclass(frozen=True)
class SocketHost:
    """What the socket actor and its frame router need from the client around them, as plain
    callables: the actor never reads the client's state."""

    tracker: GapTracker
    protocol: Tuple[int, int]
    next_url: Callable[[int, Optional[CloseInfo]], Awaitable[str]]
    """This attempt's node; raises ``GatewayConnectError`` when the url function fails."""
    token: Callable[[], Awaitable[Optional[str]]]
    handshake_frame: Callable[[str, Optional[str]], Union[HelloFrame, JoinFrame]]
    lifecycle: Callable[[Mapping[str, Any]], None]
    """A fact for the chart (``socket.opened``, ``hello.accepted``, ...)."""
    closed: Callable[[int, str], None]
    """The live socket ended with this code and reason (reported once)."""
    failed: Callable[[GatewayConnectError, BaseException, bool], None]
    """An attempt failed: the error, its cause, and whether to report it once per distinct cause."""
    report: Callable[[GatewayConnectError], None]
    report_cause: Callable[[GatewayConnectError], None]
    """Report an error that is also the last failure's cause (``info.last_error``)."""
    accepted: Callable[[GatewayTerms], None]
    ack: Callable[[str, bool], None]
    message_error: Callable[[str, GatewayConnectError], None]
    message_retry: Callable[[str, float], None]
    snapshot: Callable[[SessionSnapshot], None]
    overflow: Callable[[], None]


class Connection:
    """One socket's life, owned by the actor; the heartbeat reads ``last_seen`` and ``live``."""

    def __init__(self, attempt: int, last_close: Optional[CloseInfo], handshake: str, now: float) -> None:
        self.attempt = attempt
        self.last_close = last_close
        self.handshake = handshake
        self.url: Optional[str] = None
        self.live = True
        self.open = False
        self.last_seen = now
        self.hard = False
        """Set by ``terminate``: the close that follows aborts instead of waiting for the peer."""
        self.outgoing: "asyncio.Queue[str]" = asyncio.Queue()
        self.task: Optional["asyncio.Task[None]"] = None
        self.token: Optional[str] = None
        self.placement: Optional[TokenPlacement] = None
        """Where this attempt's token went (``hello.token``, ``?token=``), for an ``auth_required``."""

    def shown(self, text: str) -> str:
        """``text`` as a message may show it: no token from the URL or this attempt's token option."""
        return scrub_secret(redact_tokens(text), self.token)

    def write(self, frame: Frame) -> bool:
        """Queue a frame for the writer; False when this connection cannot carry it."""
        if not self.live or not self.open:
            return False
        self.outgoing.put_nowait(json.dumps(frame, separators=(",", ":"), ensure_ascii=False))
        return True
