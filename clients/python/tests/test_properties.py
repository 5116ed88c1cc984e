"""Property tests (hypothesis) of the backoff policy and the gap bookkeeping, each against a
reference model written as directly as the rule reads in PROTOCOL.md."""
from __future__ import annotations

import math
from typing import Any, List, Optional, Tuple

from hypothesis import given, settings
from hypothesis import strategies as st

from lifeline_client.backoff import backoff_delay
from lifeline_client.frame_router import FrameRouter
from lifeline_client.gap_tracker import GapTracker, HandshakeAnswer
from lifeline_client.types import GapInfo, GatewayEvent

options_strategy = st.fixed_dictionaries(
    {
        "initialDelayMs": st.integers(1, 5000),
        "maxDelayMs": st.integers(1, 120_000),
        "multiplier": st.floats(1, 10),
        "jitter": st.floats(0, 1),
    }
)
draw = st.floats(0, 1, exclude_max=True)


def reference_delay(attempt: int, o: Any, r: float) -> float:
    """Full jitter over an exponential ceiling capped at the maximum (AWS's formula)."""
    try:
        ceiling = min(o["maxDelayMs"], o["initialDelayMs"] * o["multiplier"] ** attempt)
    except OverflowError:
        ceiling = o["maxDelayMs"]
    return ceiling * (1 - o["jitter"] * r)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10_000), options_strategy, draw)
def test_backoff_is_the_reference_rounded_and_within_bounds(attempt: int, options: Any, r: float) -> None:
    delay = backoff_delay(attempt, options, lambda: r)
    assert isinstance(delay, int)
    assert 0 <= delay <= options["maxDelayMs"]
    expected = reference_delay(attempt, options, r)
    assert abs(delay - expected) <= 0.5 + 1e-6 * expected


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 60), options_strategy, draw, draw)
def test_a_larger_draw_never_waits_longer(attempt: int, options: Any, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert backoff_delay(attempt, options, lambda: high) <= backoff_delay(attempt, options, lambda: low)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 60), options_strategy)
def test_full_jitter_spreads_a_crowd(attempt: int, options: Any) -> None:
    options = {**options, "jitter": 1.0}
    delays = {backoff_delay(attempt, options, lambda i=i: i / 100) for i in range(100)}
    ceiling = min(options["maxDelayMs"], options["initialDelayMs"] * math.pow(options["multiplier"], attempt)) if attempt < 1000 else options["maxDelayMs"]
    if ceiling >= 100:
        assert len(delays) >= 50, "clients that failed together do not return together"


Item = Tuple[int, str, Optional[str]]
item_strategy = st.tuples(st.integers(1, 40), st.sampled_from(["event", "replay"]), st.one_of(st.none(), st.sampled_from(["A", "B", "C"])))


def reference_model(items: List[Item], start_epoch: str) -> List[Any]:
    """PROTOCOL.md section 4: within one history only record-breaking seqs are delivered, a jump
    is a gap, and a frame from another epoch starts a new history right before its seq."""
    out: List[Any] = []
    history, high = start_epoch, 0
    for seq, kind, epoch in items:
        if epoch is not None and epoch != history:
            out.append(("gap", high + 1, seq, "epoch"))
            history, high = epoch, seq - 1
        if seq <= high:
            continue
        if seq > high + 1:
            out.append(("gap", high + 1, seq, "window" if kind == "replay" else "live"))
        out.append(("event", seq))
        high = seq
    return out


class _Sink:
    def __init__(self, tracker: GapTracker) -> None:
        self.tracker = tracker

    def send(self, frame: Any) -> None: ...
    def lifecycle(self, event: Any) -> None: ...
    def send_join(self) -> None: ...
    def accepted(self, frame: Any) -> None: ...
    def ack(self, message_id: str, duplicate: bool) -> None: ...
    def message_error(self, message_id: str, error: Any) -> None: ...
    def message_retry(self, message_id: str, after_ms: float) -> None: ...
    def snapshot(self, state: Any, cursor: int, epoch: Optional[str]) -> None: ...
    def error(self, error: Any) -> None:
        raise AssertionError(f"unexpected error {error!r}")
    def overflow(self) -> None: ...


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(item_strategy, min_size=1, max_size=4), max_size=40))
def test_gap_bookkeeping_matches_the_reference_model(groups: List[List[Item]]) -> None:
    """Arbitrary frames (batches, duplicates, reordering, epoch changes) through the real router."""
    import json

    out: List[Any] = []

    def on_event(e: GatewayEvent) -> bool:
        out.append(("event", e.seq))
        return True

    def on_gap(g: GapInfo) -> None:
        out.append(("gap", g.expected, g.received, g.reason))

    tracker = GapTracker(on_event, on_gap)
    router = FrameRouter(_Sink(tracker), "hello", (1, 2))
    hello_ok = {"type": "hello_ok", "protocol": 2, "features": {"methods": [], "events": [], "extensions": ["caught_up", "epoch", "batch"]}, "policy": {"max_payload": 1 << 20, "heartbeat_ms": 0}, "session_id": "s", "resumed": False, "cursor": 0, "epoch": "A"}
    router.route(json.dumps(hello_ok))
    for group in groups:
        frames = [{"type": kind, "seq": seq, "event": {"type": "t", "data": seq}, **({} if epoch is None else {"epoch": epoch})} for seq, kind, epoch in group]
        router.route(json.dumps(frames[0] if len(frames) == 1 else {"type": "batch", "frames": frames}))
    assert out == reference_model([item for group in groups for item in group], "A")


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 50), st.integers(0, 60), st.one_of(st.none(), st.integers(0, 61)), st.booleans())
def test_a_resume_handshake_accounts_for_every_event(since: int, head: int, oldest: Optional[int], resumed: bool) -> None:
    """After a handshake, cursor + gap cover exactly what the client had and what will be replayed."""
    gaps: List[GapInfo] = []
    tracker = GapTracker(lambda e: True, gaps.append, "s", since, "A")
    tracker.resume_request()
    tracker.handshake(HandshakeAnswer("s", resumed, head, "A", oldest, None, False))
    if gaps:
        gap = gaps[0]
        assert gap.expected == since + 1
        assert tracker.cursor == gap.received - 1, "replay continues right where the gap ends"
    else:
        assert tracker.cursor == since, "nothing lost: continue from since"
