"""The frame decoder: ``json.loads`` results for everything the C decoder reads, the same values
for frames deeper than Python's recursion allows, and the shared nesting limit, against the cases
exported from TypeScript (vectors/protocol.json) and hypothesis-generated documents."""
from __future__ import annotations

import json
import math
import sys
from typing import Any

import pytest
from conftest import vectors
from hypothesis import given, settings
from hypothesis import strategies as st

from lifeline_client.frame_decoder import FrameDecodeError, FrameTooDeep, decode_frame, decode_iteratively, nesting_exceeds
from lifeline_client.protocol import MAX_SERVER_FRAME_BYTES, MAX_SERVER_FRAME_DEPTH

TABLES = vectors("protocol.json")


def test_the_limits_are_the_typescript_ones() -> None:
    assert TABLES["frameLimits"] == {"maxServerFrameBytes": MAX_SERVER_FRAME_BYTES, "maxServerFrameDepth": MAX_SERVER_FRAME_DEPTH}


@pytest.mark.parametrize("case", TABLES["nesting"], ids=[c["name"] for c in TABLES["nesting"]])
def test_nesting_is_counted_as_typescript_counts_it(case: Any) -> None:
    assert nesting_exceeds(case["text"], case["maxDepth"]) == case["exceeds"]
    if case["exceeds"]:
        with pytest.raises(FrameTooDeep):
            decode_frame(case["text"], case["maxDepth"])
        with pytest.raises(FrameTooDeep):
            decode_iteratively(case["text"], case["maxDepth"])
    else:
        value = decode_iteratively(case["text"], case["maxDepth"])
        assert deepest(value) <= case["maxDepth"]
        if case["maxDepth"] < 500:  # json.loads itself recurses
            assert value == json.loads(case["text"])


def deepest(value: Any) -> int:
    """The nesting depth of a decoded value, without recursion."""
    most, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            most = max(most, depth)
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return most


def nested(depth: int) -> str:
    return '{"a":' * (depth - 1) + "[1]" + "}" * (depth - 1)


def depth_of(value: Any) -> int:
    depth = 0
    while isinstance(value, (dict, list)):
        depth += 1
        value = value["a"] if isinstance(value, dict) else value[0]
    return depth


@pytest.mark.parametrize("depth", [1_500, MAX_SERVER_FRAME_DEPTH])
def test_a_frame_deeper_than_the_recursion_limit_but_within_the_limit_is_read_whole(depth: int) -> None:
    limit = sys.getrecursionlimit()
    assert depth_of(decode_frame(nested(depth))) == depth
    assert sys.getrecursionlimit() == limit, "the recursion limit is never touched"


def test_one_level_past_the_limit_is_refused_without_recursion() -> None:
    with pytest.raises(FrameTooDeep, match=f"deeper than {MAX_SERVER_FRAME_DEPTH} levels"):
        decode_frame(nested(MAX_SERVER_FRAME_DEPTH + 1))
    with pytest.raises(FrameTooDeep):
        decode_frame("[" * 100_000 + "]" * 100_000)


def test_the_limit_holds_when_the_app_raised_the_recursion_limit() -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(MAX_SERVER_FRAME_DEPTH + 2_000)
    try:
        with pytest.raises(FrameTooDeep):
            decode_frame(nested(MAX_SERVER_FRAME_DEPTH + 1))
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("text", ["", "[1,]", '{"a":1,}', "[1 2]", '{"a" 1}', "[01]", "[1]x", '["a]', "{1:2}", "[-]", "tru"])
def test_what_json_loads_refuses_the_iterative_decoder_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(FrameDecodeError):
        decode_iteratively(text)
    with pytest.raises(FrameDecodeError):
        decode_frame(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(json_values, st.sampled_from([None, 1, 2]), st.booleans())
def test_the_iterative_decoder_reads_what_json_loads_reads(value: Any, indent: Any, ascii_only: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    assert decode_iteratively(text) == json.loads(text)


def test_the_constants_json_loads_accepts() -> None:
    got = decode_iteratively('[NaN, Infinity, -Infinity, true, false, null, -0.5e3, 12]')
    assert math.isnan(got[0]) and got[1:] == [math.inf, -math.inf, True, False, None, -500.0, 12]
