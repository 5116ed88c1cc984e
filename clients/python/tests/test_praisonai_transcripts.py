"""The recorded PraisonAI transcripts (test/fixtures/praisonai-gateway), connection by connection,
through the Python frame router and tracker: every event, gap, lifecycle fact, reply, snapshot
and error must be what the TypeScript router produced (vectors/praisonai-transcripts.json)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from conftest import vectors

from lifeline_client.errors import GatewayConnectError
from lifeline_client.frame_router import FrameRouter
from lifeline_client.gap_tracker import GapTracker
from lifeline_client.types import GapInfo, GatewayEvent

CASES = vectors("praisonai-transcripts.json")


class Recorder:
    def __init__(self, tracker: GapTracker, out: List[Any]) -> None:
        self.tracker = tracker
        self.out = out

    def send(self, frame: Dict[str, Any]) -> None:
        self.out.append({"send": frame})

    def lifecycle(self, event: Dict[str, Any]) -> None:
        self.out.append({"lifecycle": event})

    def send_join(self) -> None:
        self.out.append({"send": {"type": "join"}})

    def accepted(self, frame: Dict[str, Any]) -> None:
        pass

    def ack(self, message_id: str, duplicate: bool) -> None:
        self.out.append({"ack": {"id": message_id, "duplicate": duplicate}})

    def message_error(self, message_id: str, error: GatewayConnectError) -> None:
        self.out.append({"messageError": {"id": message_id, "code": error.code}})

    def message_retry(self, message_id: str, after_ms: float) -> None:
        self.out.append({"messageRetry": {"id": message_id, "afterMs": after_ms}})

    def snapshot(self, state: Any, cursor: int, epoch: Optional[str]) -> None:
        self.out.append({"snapshot": cursor})

    def error(self, error: GatewayConnectError) -> None:
        self.out.append({"error": error.code})

    def overflow(self) -> None:
        raise AssertionError("no overflow in a replay")


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_transcript(case: Dict[str, Any]) -> None:
    out: List[Any] = []

    def on_event(e: GatewayEvent) -> bool:
        out.append({"event": {"seq": e.seq, "type": e.type, "data": e.data, "eventId": e.event_id, "timestamp": e.timestamp, "source": e.source, "replayed": e.replayed}})
        return True

    def on_gap(g: GapInfo) -> None:
        out.append({"gap": {"expected": g.expected, "received": g.received, "reason": g.reason}})

    tracker = GapTracker(on_event, on_gap, case["sessionId"], case["since"])
    tracker.resume_request()
    router = FrameRouter(Recorder(tracker, out), case["handshake"], tuple(case["protocol"]))  # type: ignore[arg-type]
    for text in case["frames"]:
        router.route(text)
    assert out == case["out"]
    resume = None if tracker.resume is None else {"mode": tracker.resume.mode, "from": tracker.resume.start, "to": tracker.resume.head}
    assert {"sessionId": tracker.session_id, "cursor": tracker.cursor, "epoch": tracker.epoch, "resume": resume} == case["after"]
