"""Reads each text frame from the gateway once and sends it where it belongs: events to the
tracker (hot path), handshake outcomes and notices to the chart, acks to the outbox. Mirrors
src/client/frame-router.ts, PraisonAI's flat frames and ``event.sequence`` replays included.

Event frames get a structural check of the fields used, nothing more: this is the per-event path.
Every other frame is checked against the fields the protocol requires (PROTOCOL.md section 3)."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Protocol, Tuple, Union

from .errors import GatewayConnectError
from .frame_decoder import FrameTooDeep, decode_frame
from .frames import ClientFrame, PongFrame
from .gap_tracker import GapTracker, HandshakeAnswer
from .protocol import MAX_SEQ, clamp_hint_ms, default_next_step

DEFAULT_MESSAGE_RETRY_MS = 1000
"""When a gateway asks for a message again without saying when (no ``retry_after_seconds``)."""

Json = Dict[str, Any]


class RouterTarget(Protocol):
    """What the router needs from the socket that owns it and the client around it."""

    tracker: GapTracker

    def send(self, frame: ClientFrame) -> None: ...
    def lifecycle(self, event: Json) -> None: ...
    def send_join(self) -> None: ...
    def accepted(self, frame: Json) -> None: ...
    def ack(self, message_id: str, duplicate: bool) -> None: ...
    def message_error(self, message_id: str, error: GatewayConnectError) -> None: ...
    def message_retry(self, message_id: str, after_ms: float) -> None: ...
    def snapshot(self, state: Any, cursor: int, epoch: Optional[str]) -> None: ...
    def error(self, error: GatewayConnectError) -> None: ...
    def overflow(self) -> None: ...


CONTRACT_TYPES = frozenset(
    ["hello_ok", "hello_error", "joined", "event", "replay", "caught_up", "batch", "snapshot", "ack", "error", "draining", "ping", "pong"]
)

HANDSHAKE_ANSWERS = frozenset(["hello_ok", "hello_error", "joined"])
"""Frames that answer the handshake: one of these that fails the schema fails the attempt."""


def is_seq(value: Any) -> bool:
    """A seq the protocol allows: a safe integer ``1..2**53-2`` (room for ``+1``)."""
    return type(value) is int and 1 <= value <= MAX_SEQ


def _is_cursor(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_SEQ


def _is_event_payload(value: Any) -> bool:
    return type(value) is dict and type(value.get("type")) is str and value["type"] != ""


def _epoch_of(frame: Json) -> Union[str, None, bool]:
    """The frame's epoch, None when absent, False when malformed."""
    epoch = frame.get("epoch")
    if epoch is None:
        return None
    return epoch if type(epoch) is str and epoch != "" else False


def _event_frame_seq(frame: Json) -> int:
    """The seq of a deliverable ``event``/``replay`` frame, 0 when it needs the full check."""
    kind = frame.get("type")
    if kind != "event" and kind != "replay":
        return 0
    event: Any = frame.get("event")
    if not _is_event_payload(event) or _epoch_of(frame) is False:
        return 0
    seq: Any = frame.get("seq")
    if kind == "replay" and seq is None:
        seq = event["sequence"] if "sequence" in event else None  # PraisonAI numbers its replays here
    return int(seq) if is_seq(seq) else 0


def flat_fields(frame: Json) -> Mapping[str, Any]:
    """A PraisonAI flat frame: its own type is the event type; ``data``, or the whole frame."""
    if "data" in frame:
        return frame
    return {"type": frame["type"], "data": frame, "event_id": frame.get("event_id"), "timestamp": frame.get("timestamp"), "source": frame.get("source")}


def answer_of(frame: Json) -> HandshakeAnswer:
    """``hello_ok`` or legacy ``joined``, reduced to what the tracker needs."""
    return HandshakeAnswer(
        session_id=frame["session_id"],
        resumed=bool(frame.get("resumed", False)),
        head=frame["cursor"],
        epoch=frame.get("epoch"),
        oldest=frame.get("oldest_cursor"),
        gap=frame.get("gap"),
        resync_required=bool(frame.get("resync_required", False)),
    )


def _problem(frame: Json) -> Optional[str]:
    """Why a contract frame breaks the schema, or None. Only the fields the client relies on."""
    kind = frame["type"]
    def need(name: str, check: Callable[[Any], bool]) -> Optional[str]:
        return None if check(frame.get(name)) else f'"{kind}" frame: "{name}" is missing or invalid.'
    text = lambda v: type(v) is str  # noqa: E731
    optional_number = lambda v: v is None or (type(v) in (int, float) and v >= 0)  # noqa: E731
    checks: Dict[str, List[Tuple[str, Callable[[Any], bool]]]] = {
        "hello_ok": [("protocol", lambda v: type(v) is int), ("features", lambda v: type(v) is dict), ("policy", lambda v: type(v) is dict), ("session_id", text), ("cursor", _is_cursor), ("resumed", lambda v: type(v) is bool)],
        "joined": [("session_id", text), ("cursor", _is_cursor)],
        "hello_error": [("code", text), ("message", text), ("next_step", text), ("retry_after_seconds", optional_number)],
        "error": [("message", text), ("retry_after_seconds", optional_number)],
        "caught_up": [("cursor", _is_cursor)],
        "ack": [("id", text)],
        "draining": [("reconnect_after_ms", optional_number)],
        "snapshot": [("cursor", lambda v: v is None or _is_cursor(v))],
    }
    for name, check in checks.get(kind, []):
        problem = need(name, check)
        if problem:
            return problem
    if kind in ("hello_ok", "joined", "caught_up", "event", "replay") and _epoch_of(frame) is False:
        return f'"{kind}" frame: "epoch" must be a non-empty string.'
    return None


class FrameRouter:
    """The router of one socket; it starts in the handshake phase (``hello`` or ``join``)."""

    def __init__(self, target: RouterTarget, handshake: str, offered: Tuple[int, int]) -> None:
        self._target = target
        self._tracker = target.tracker
        self._mode = handshake
        self._offered = offered
        self._joined = False
        self.stopped = False
        """True once the events queue overflowed: the rest of this socket's frames are ignored."""

    def route(self, text: str) -> None:
        if self.stopped:
            return
        try:
            value = decode_frame(text)
        except FrameTooDeep as error:
            return self._bad(str(error))
        except ValueError:
            return self._bad("Frame is not valid JSON.")
        if type(value) is not dict or type(value.get("type")) is not str:
            return self._bad('Frame must be one JSON object with a string "type".')
        kind = value["type"]
        if kind == "event":
            # The hot path, inlined: one lookup per field, no allocation but the delivered event.
            event = value.get("event")
            seq = value.get("seq")
            epoch = value.get("epoch")
            if type(event) is dict and type(seq) is int and 1 <= seq <= MAX_SEQ and (epoch is None or (type(epoch) is str and epoch != "")):
                event_type = event.get("type")
                if type(event_type) is str and event_type != "":
                    if not self._tracker.accept(seq, event, False, epoch, value):
                        self._overflowed()
                    return
        elif kind == "replay":
            seq = _event_frame_seq(value)
            if seq:
                self._deliver(value, seq)
                return
        elif kind == "batch":
            if self._accept_batch(value):
                return
        # PraisonAI flat events, including numbered `error` events, carry a top-level seq.
        if (kind not in CONTRACT_TYPES or kind == "error") and is_seq(value.get("seq")):
            if not self._tracker.accept(value["seq"], flat_fields(value), False, None, value):
                self._overflowed()
            return
        if kind not in CONTRACT_TYPES:
            if kind == "":
                return self._bad('Frame "type" must not be empty.')
            if not self._tracker.notice(flat_fields(value), value):
                self._overflowed()
            return
        problem = _problem(value)
        if problem is not None:
            if not self._joined and kind in HANDSHAKE_ANSWERS:
                # An answer we cannot use would otherwise leave the attempt waiting out the whole
                # handshake timeout: fail it now, retried with backoff like an answer outside the offer.
                message = f'The gateway\'s "{kind}" does not follow the protocol: {problem}'
                return self._target.lifecycle({"type": "hello.rejected", "code": "bad_server_frame", "message": message, "nextStep": "wait_then_retry"})
            return self._bad(problem)
        self._contract(value)

    def _deliver(self, frame: Json, seq: int) -> bool:
        epoch = frame.get("epoch")  # checked by _event_frame_seq
        if self._tracker.accept(seq, frame["event"], frame["type"] == "replay", epoch, frame):
            return True
        self._overflowed()
        return False

    def _accept_batch(self, frame: Json) -> bool:
        frames = frame.get("frames")
        if type(frames) is not list:
            return False
        # Check every member before delivering any: a bad batch is refused whole.
        seqs = [(_event_frame_seq(m) if type(m) is dict else 0) for m in frames]
        if not all(seqs):
            return False
        for member, seq in zip(frames, seqs):
            if not self._deliver(member, seq):
                break
        return True

    def _overflowed(self) -> None:
        self.stopped = True
        self._target.overflow()

    def _bad(self, message: str) -> None:
        self._target.error(GatewayConnectError("bad_server_frame", message))

    def _handshake_error(self, code: Optional[str], message: str, next_step: Optional[str], retry_after: Optional[float]) -> None:
        if self._mode == "hello":
            # A gateway that does not know `hello` answers `error`: retry with the legacy `join`.
            self._mode = "join"
            self._target.send_join()
            self._target.lifecycle({"type": "hello.unsupported"})
            return
        # PraisonAI's join answers a mismatch with `version_unsupported`, other refusals with no code.
        wire = "protocol_unsupported" if code == "version_unsupported" else (code or "bad_frame")
        event: Json = {"type": "hello.rejected", "code": wire, "message": message, "nextStep": next_step or ("do_not_retry" if code is None else "upgrade_client")}
        if retry_after is not None:
            event["retryAfterMs"] = clamp_hint_ms(retry_after * 1000)
        self._target.lifecycle(event)

    def _contract(self, frame: Json) -> None:
        kind = frame["type"]
        target = self._target
        if kind == "hello_ok" or kind == "joined":
            if self._joined:
                return
            protocol = frame["protocol"] if kind == "hello_ok" else 0
            low, high = self._offered
            if kind == "hello_ok" and not (protocol >= 1 and low <= protocol <= high):
                # Never speak a version we did not offer: a failed attempt, retried with backoff.
                message = f"The gateway chose protocol {protocol}, outside the offered {low}..{high}."
                target.lifecycle({"type": "hello.rejected", "code": "bad_server_frame", "message": message, "nextStep": "wait_then_retry"})
                return
            self._joined = True
            self._tracker.handshake(answer_of(frame))
            target.accepted(frame)
            policy = frame.get("policy") or {}
            target.lifecycle({"type": "hello.accepted", "protocol": protocol, "heartbeatMs": clamp_hint_ms(policy.get("heartbeat_ms", 0))})
            # Without the `caught_up` extension (PraisonAI, legacy join) nothing will end the replay.
            extensions = (frame.get("features") or {}).get("extensions") or [] if kind == "hello_ok" else []
            if "caught_up" not in extensions:
                self._tracker.caught_up(None)
                target.lifecycle({"type": "caught_up"})
        elif kind == "hello_error":
            if frame["code"] == "session_expired":
                self._tracker.forget_session()
            event: Json = {"type": "hello.rejected", "code": frame["code"], "message": frame["message"], "nextStep": frame["next_step"]}
            if frame.get("retry_after_seconds") is not None:
                event["retryAfterMs"] = clamp_hint_ms(frame["retry_after_seconds"] * 1000)
            target.lifecycle(event)
        elif kind == "error":
            code, next_step = frame.get("code"), frame.get("next_step")
            if not self._joined:
                return self._handshake_error(code, frame["message"], next_step, frame.get("retry_after_seconds"))
            if type(frame.get("id")) is str:
                # Not applied and not lost (PROTOCOL.md section 5, "Message errors"): keep it, send it again.
                if (next_step or default_next_step(code or "bad_frame")) == "wait_then_retry":
                    retry_after = frame.get("retry_after_seconds")
                    after_ms = DEFAULT_MESSAGE_RETRY_MS if retry_after is None else clamp_hint_ms(retry_after * 1000)
                    return target.message_retry(frame["id"], after_ms)
                return target.message_error(frame["id"], GatewayConnectError(code or "bad_frame", frame["message"], next_step))
            target.error(GatewayConnectError(code or "internal_error", frame["message"], next_step))
        elif kind == "caught_up":
            self._tracker.caught_up(frame.get("epoch"))
            target.lifecycle({"type": "caught_up"})
        elif kind == "snapshot":
            cursor = frame.get("cursor")
            if cursor is None:
                cursor = _praison_snapshot_cursor(frame.get("state"))
            self._tracker.snapshot(cursor, frame.get("epoch"))
            target.snapshot(frame.get("state"), self._tracker.cursor, self._tracker.epoch)
        elif kind == "ack":
            target.ack(frame["id"], frame.get("duplicate") is True)
        elif kind == "draining":
            target.lifecycle({"type": "draining", "reconnectAfterMs": clamp_hint_ms(frame.get("reconnect_after_ms") or 0)})
        elif kind == "ping":
            pong: PongFrame = {"type": "pong"} if frame.get("ts") is None else {"type": "pong", "ts": frame["ts"]}
            target.send(pong)
        elif kind == "pong":
            return
        else:  # event, replay, batch that failed the fast path
            self._bad(f'Unusable "{kind}" frame.')


def _praison_snapshot_cursor(state: Any) -> Optional[int]:
    """PraisonAI snapshots have no top-level cursor; their state carries ``event_cursor``."""
    if type(state) is not dict:
        return None
    cursor = state.get("event_cursor")
    return cursor if _is_cursor(cursor) else None
