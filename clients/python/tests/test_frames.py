"""The frames' ``TypedDict``s (lifeline_client/frames.py) are what tests/generate_frames.py makes of
schema/protocol.schema.json today, and the frames the client writes fit them."""
from __future__ import annotations

import json
from typing import Any, Dict, Mapping

from conftest import load_json
from generate_frames import render

from lifeline_client import frames
from lifeline_client.gap_tracker import GapTracker
from lifeline_client.outbox import message_frame

SCHEMA: Dict[str, Any] = load_json("schema/protocol.schema.json")["$defs"]


def test_frames_py_is_generated_from_the_current_schema() -> None:
    assert (frames.__file__ and open(frames.__file__, encoding="utf-8").read()) == render(), (
        "lifeline_client/frames.py is stale: run /usr/bin/python3 tests/generate_frames.py from clients/python"
    )


def test_each_frame_has_the_schema_required_and_optional_fields() -> None:
    for name, schema in SCHEMA.items():
        if "properties" not in schema:
            continue
        typed = getattr(frames, name)
        assert set(typed.__required_keys__) == set(schema.get("required", [])), name
        assert set(typed.__required_keys__) | set(typed.__optional_keys__) == set(schema["properties"]), name


def _fits(frame: Mapping[str, Any], name: str) -> None:
    schema = SCHEMA[name]
    assert frame["type"] == schema["properties"]["type"]["const"]
    assert set(schema.get("required", [])) <= set(frame) <= set(schema["properties"]), (name, sorted(frame))
    json.dumps(frame)


def test_the_frames_the_client_writes_fit_their_types() -> None:
    from lifeline_client import GatewayClient

    client = GatewayClient("ws://127.0.0.1:9", agent_id="demo")
    _fits(client._handshake_frame("hello", "t"), "HelloFrame")
    _fits(client._handshake_frame("join", None), "JoinFrame")
    tracker = GapTracker(lambda event: True, lambda gap: None, "s-1", 3, "e1")
    assert tracker.resume_request() == {"session_id": "s-1", "since": 3, "epoch": "e1"}
    _fits(message_frame("m-1", {"text": "hi"}), "MessageFrame")
