"""Replay and gap tracking: follows (epoch, cursor), drops duplicates, reports gaps and how a
resume went. Mirrors src/client/gap-tracker.ts decision for decision (checked against vectors
exported from it); plain methods on plain state, because this is the per-event hot path."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, TypedDict

from .types import GapInfo, GatewayEvent, ResumeInfo


class ResumeFields(TypedDict, total=False):
    """The resume fields of a ``hello`` or ``join`` (none for a new session)."""

    session_id: str
    since: int
    epoch: str


@dataclass(frozen=True)
class HandshakeAnswer:
    """A ``hello_ok`` or legacy ``joined``, reduced to what resume needs."""

    session_id: str
    resumed: bool
    head: int
    epoch: Optional[str]
    oldest: Optional[int]
    gap: Optional[Mapping[str, int]]
    resync_required: bool


EventSink = Callable[[GatewayEvent], bool]
"""Takes a delivered event; False when it could not be queued (the events queue is full)."""
GapSink = Callable[[GapInfo], None]


def handshake_gap(answer: HandshakeAnswer, since: int, epoch: Optional[str]) -> Optional[GapInfo]:
    """The gap a handshake answer implies for a client that sent ``since`` in ``epoch`` (section 4)."""
    if answer.gap is not None:
        changed = epoch is not None and answer.epoch is not None and answer.epoch != epoch
        received = answer.gap["received"]
        return GapInfo(answer.gap["expected"], received, "epoch" if changed or received <= since else "window")
    first_held = answer.oldest if answer.oldest is not None and answer.oldest > 0 else answer.head + 1
    if epoch is not None and answer.epoch is not None and answer.epoch != epoch:
        return GapInfo(since + 1, first_held, "epoch")
    if answer.head < since or (not answer.resumed and since > 0):
        return GapInfo(since + 1, answer.head + 1 if answer.head < since else first_held, "epoch")
    if answer.resync_required and answer.oldest is not None and answer.oldest > since + 1:
        return GapInfo(since + 1, answer.oldest, "window")
    return None


class GapTracker:
    """One per client; it outlives sockets."""

    def __init__(self, on_event: EventSink, on_gap: GapSink, session_id: Optional[str] = None, cursor: int = 0, epoch: Optional[str] = None) -> None:
        self._on_event = on_event
        self._on_gap = on_gap
        self.session_id: Optional[str] = session_id
        self.cursor = cursor
        self.epoch: Optional[str] = epoch
        self.resume: Optional[ResumeInfo] = None
        # The `since` of the last handshake; None when it started a new session.
        self._sent_since: Optional[int] = None
        # The cursor of a session the gateway dropped (4040): the next session reports it as a gap.
        self._lost_cursor = 0

    def _report_gap(self, expected: int, received: int, reason: str, replayed: bool) -> None:
        if replayed and self.resume is not None and self.resume.mode == "full":
            # PraisonAI never reports a gap on resume: the first replayed number tells us instead.
            self.resume = ResumeInfo("partial", received, self.resume.head)
        self._on_gap(GapInfo(expected, received, reason))  # type: ignore[arg-type]

    def resume_request(self) -> "ResumeFields":
        """The resume fields of the next ``hello``/``join``; remembers ``since`` for the check."""
        if self.session_id is None:
            self._sent_since = None
            return {}
        self._sent_since = self.cursor
        request: ResumeFields = {"session_id": self.session_id, "since": self.cursor}
        if self.epoch is not None:
            request["epoch"] = self.epoch
        return request

    def handshake(self, answer: HandshakeAnswer) -> None:
        """Adopt the session and epoch; report a handshake gap."""
        since = self._sent_since if answer.session_id == self.session_id else None
        self.session_id = answer.session_id
        if since is None:
            lost = max(self._lost_cursor, self.cursor)
            self.cursor = 0
            self._lost_cursor = 0
            self.epoch = answer.epoch
            self.resume = ResumeInfo("none", 1, answer.head)
            if lost > 0:
                self._on_gap(GapInfo(lost + 1, 1, "epoch"))
            return
        gap = handshake_gap(answer, since, self.epoch)
        if answer.epoch is not None:
            self.epoch = answer.epoch
        if gap is None:
            self.cursor = since
            self.resume = ResumeInfo("full", since + 1, answer.head)
            return
        self.cursor = gap.received - 1
        self.resume = ResumeInfo("partial" if answer.head >= gap.received else "none", gap.received, answer.head)
        self._on_gap(gap)

    def accept(self, seq: int, fields: Mapping[str, Any], replayed: bool, frame_epoch: Optional[str], raw: Any) -> bool:
        """One numbered event: drops ``seq <= cursor``, reports jumps and epoch changes, delivers
        the rest. False when the sink refused it: the cursor then stays before it."""
        if seq == self.cursor + 1 and (frame_epoch is None or frame_epoch == self.epoch):
            # The common case, first: the next event of the same history.
            if not self._deliver(seq, fields, replayed, raw):
                return False
            self.cursor = seq
            return True
        if frame_epoch is not None and frame_epoch != self.epoch:
            if self.epoch is not None:
                # A new history: numbering may restart, so this is a gap, never a duplicate.
                self._report_gap(self.cursor + 1, seq, "epoch", replayed)
                self.cursor = seq - 1
            self.epoch = frame_epoch
        if seq <= self.cursor:
            return True
        if seq > self.cursor + 1:
            self._report_gap(self.cursor + 1, seq, "window" if replayed else "live", replayed)
            self.cursor = seq - 1
        if not self._deliver(seq, fields, replayed, raw):
            return False
        self.cursor = seq
        return True

    def notice(self, fields: Mapping[str, Any], raw: Any) -> bool:
        """An unnumbered notice (PraisonAI ``status``, ``aborted``): delivered, cursor unchanged."""
        return self._deliver(None, fields, False, raw)

    def caught_up(self, frame_epoch: Optional[str]) -> None:
        """``caught_up``: replay is over."""
        if frame_epoch is not None and self.epoch is None:
            self.epoch = frame_epoch

    def snapshot(self, cursor: Optional[int], epoch: Optional[str]) -> None:
        """A snapshot: continue from its cursor (in its epoch)."""
        new_history = epoch is not None and epoch != self.epoch
        if epoch is not None:
            self.epoch = epoch
        if cursor is not None:
            self.cursor = cursor if new_history else max(self.cursor, cursor)

    def forget_session(self) -> None:
        """Drop the session (expired, or refused): the next handshake starts fresh."""
        self._lost_cursor = max(self._lost_cursor, self.cursor)
        self.session_id = None
        self.cursor = 0
        self.epoch = None
        self._sent_since = None

    def _deliver(self, seq: Optional[int], fields: Mapping[str, Any], replayed: bool, raw: Any) -> bool:
        get = fields.get
        timestamp = get("timestamp")
        event_id = get("event_id")
        source = get("source")
        return self._on_event(
            GatewayEvent(
                seq,
                fields["type"],
                get("data"),
                event_id if type(event_id) is str else None,
                timestamp if type(timestamp) is float or type(timestamp) is int else None,
                source if type(source) is str else None,
                replayed,
                raw,
            )
        )
