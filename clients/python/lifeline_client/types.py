"""The public value types: delivered events, gaps, resume reports, acks, snapshots and info."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Optional, Sequence, Tuple

ClientState = Literal["connecting", "negotiating", "joined", "reconnecting", "suspended", "disconnected"]
"""The public status: a projection of the chart's top-level state. ``suspended`` is an outage
older than ``Backoff.suspend_after``, retried under ``Backoff.suspended_max``."""


class GatewayEvent:
    """One event as delivered by ``events()`` and ``on_event``, in seq order, never twice.

    ``seq`` is None for unnumbered notices of a PraisonAI gateway (``status``, ``aborted``).
    ``raw`` is the wire frame it came from. A plain class with slots: this is made once per event,
    and a frozen dataclass costs several times more to build.
    """

    __slots__ = ("seq", "type", "data", "event_id", "timestamp", "source", "replayed", "raw")

    def __init__(self, seq: Optional[int], type: str, data: Any, event_id: Optional[str], timestamp: Optional[float], source: Optional[str], replayed: bool, raw: Any) -> None:
        self.seq = seq
        self.type = type
        self.data = data
        self.event_id = event_id
        self.timestamp = timestamp
        self.source = source
        self.replayed = replayed
        self.raw = raw

    def _key(self) -> Tuple[Any, ...]:
        return (self.seq, self.type, self.data, self.event_id, self.timestamp, self.source, self.replayed)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GatewayEvent) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"GatewayEvent(seq={self.seq!r}, type={self.type!r}, data={self.data!r}, replayed={self.replayed!r})"


@dataclass(frozen=True)
class GapInfo:
    """Events ``expected .. received-1`` will never arrive. ``reason``: ``window`` (fell out of
    the replay window), ``epoch`` (the history changed), ``live`` (a jump in the live stream)."""

    expected: int
    received: int
    reason: Literal["window", "epoch", "live"]


@dataclass(frozen=True)
class ResumeInfo:
    """How the last resume went: ``full``, ``partial`` or ``none``; ``start`` is the first seq
    replayed (or expected) and ``head`` the head at the handshake."""

    mode: Literal["full", "partial", "none"]
    start: int
    head: int


@dataclass(frozen=True)
class SendResult:
    """The answer to ``send()``: the message id, whether the gateway had applied it already, and
    whether it acknowledged it at all (a gateway without the ``ack`` extension does not)."""

    id: str
    duplicate: bool
    acknowledged: bool = True


@dataclass(frozen=True)
class Checkpoint:
    """Where a client stands in its session: what ``checkpoint()`` returns and ``resume=`` takes.
    ``cursor`` is the seq of the last event delivered, in ``epoch`` (None before the gateway named one)."""

    session_id: str
    epoch: Optional[str]
    cursor: int


@dataclass(frozen=True)
class SessionSnapshot:
    """The answer to ``resync()``: the session state as of ``cursor``."""

    state: Any
    cursor: int
    epoch: Optional[str]


@dataclass(frozen=True)
class CloseInfo:
    """A close (or synthetic close) that ended a connection."""

    code: int
    reason: str


@dataclass(frozen=True)
class ClientInfo:
    """What ``client.info`` reports; the TypeScript client's ``info`` in snake_case."""

    protocol: Optional[int]
    session_id: Optional[str]
    cursor: int
    epoch: Optional[str]
    presence: Sequence[Mapping[str, Any]]
    health: Optional[Mapping[str, Any]]
    features: Optional[Mapping[str, Any]]
    policy: Optional[Mapping[str, Any]]
    attempt: int
    retry_in: Optional[float]
    """Seconds until the pending retry while reconnecting, else None."""
    last_close: Optional[CloseInfo]
    last_error: Optional[Exception]
    """The last failure's cause (connection refused, HTTP status, …) or refusal."""
    resume: Optional[ResumeInfo]
    outage: Literal["none", "probing", "young", "old"]
    """Age of the current outage: ``none``, ``probing`` (the probe window after a drop), ``young`` (short cap) or ``old`` (``suspended``)."""
    state_path: str
    """The chart's state, dotted (``joined.live``, ``reconnecting.waiting``)."""
    url: Optional[str] = None
    """The gateway URL of the current (or last) attempt, as opened (``http`` mapped to ``ws``); None before the first."""
