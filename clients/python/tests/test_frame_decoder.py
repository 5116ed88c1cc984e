"""The frame decoder: ``json.loads`` results for everything the C decoder reads, the same values
for frames deeper than Python's recursion allows, and the shared nesting limit, against the cases
exported from TypeScript (vectors/protocol.json) and seeded random documents."""
from __future__ import annotations

import json
import math
import random
import sys
from typing import Any

import pytest
from conftest import vectors

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


_ALPHABET = 'ab"\\/[]{}:, \n\té€😀\u0000'


def random_value(rng: random.Random, depth: int) -> Any:
    """A JSON value with strings full of quotes, escapes and brackets, nested up to ``depth``."""
    roll = rng.random()
    if depth == 0 or roll < 0.4:
        return rng.choice([None, True, False, rng.randint(-(10**20), 10**20), rng.uniform(-1e6, 1e6), rng.random() * 10 ** rng.randint(-300, 300), "".join(rng.choices(_ALPHABET, k=rng.randint(0, 6)))])
    if roll < 0.7:
        return [random_value(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    return {"".join(rng.choices(_ALPHABET, k=rng.randint(0, 4))): random_value(rng, depth - 1) for _ in range(rng.randint(0, 4))}


def test_the_iterative_decoder_reads_what_json_loads_reads() -> None:
    rng = random.Random(18)
    for _ in range(400):
        value = random_value(rng, rng.randint(0, 7))
        text = json.dumps(value, indent=rng.choice([None, 1, 2]), ensure_ascii=rng.random() < 0.5)
        assert decode_iteratively(text) == json.loads(text), text


def test_the_constants_json_loads_accepts() -> None:
    got = decode_iteratively('[NaN, Infinity, -Infinity, true, false, null, -0.5e3, 12]')
    assert math.isnan(got[0]) and got[1:] == [math.inf, -math.inf, True, False, None, -500.0, 12]
