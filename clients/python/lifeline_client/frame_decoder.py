"""Parses a gateway frame's JSON within the nesting limit every client shares
(``MAX_SERVER_FRAME_DEPTH``, src/protocol/frame-limits.ts), without ever touching the process's
recursion limit. The C decoder reads nearly every frame; it recurses, so a frame nested deeper than
the interpreter's stack allows (about 1,000 levels) raises ``RecursionError``, and such a frame is
read again by a small decoder that keeps its own stack: legal frames up to the limit are read
whole, as the TypeScript client reads them, and deeper ones are refused with ``FrameTooDeep``. The
iterative decoder is pure Python and slower, which only frames deeper than about 1,000 pay."""
from __future__ import annotations

import json
import math
import re
import sys
from json.decoder import scanstring  # type: ignore[attr-defined]  # public in the module, missing from typeshed
from typing import Any, Dict, List, Optional, Tuple, Union

from .protocol import MAX_SERVER_FRAME_DEPTH

_decode = json.JSONDecoder().decode


class FrameDecodeError(ValueError):
    """A frame that is not JSON."""


class FrameTooDeep(FrameDecodeError):
    """A frame that nests arrays and objects deeper than the limit."""


def decode_frame(text: str, max_depth: int = MAX_SERVER_FRAME_DEPTH) -> Any:
    """``json.loads(text)``, refusing nesting deeper than ``max_depth`` with ``FrameTooDeep``
    (``FrameDecodeError`` for text that is not JSON)."""
    try:
        value = _decode(text)
    except RecursionError:
        return decode_iteratively(text, max_depth)
    except ValueError as error:
        raise FrameDecodeError(str(error)) from error
    # The C decoder got through, so the nesting is within the recursion limit: within max_depth
    # too, unless the app raised the limit past it.
    if sys.getrecursionlimit() > max_depth and nesting_exceeds(text, max_depth):
        raise _too_deep(max_depth)
    return value


def _too_deep(max_depth: int) -> FrameTooDeep:
    return FrameTooDeep(f"Frame nests deeper than {max_depth} levels (MAX_SERVER_FRAME_DEPTH); skipped.")


_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def nesting_exceeds(text: str, max_depth: int = MAX_SERVER_FRAME_DEPTH) -> bool:
    """Whether ``text`` nests arrays and objects deeper than ``max_depth`` (brackets inside
    strings do not count). Such nesting needs more than ``max_depth`` opening brackets, so shorter
    texts and texts with fewer brackets are not scanned. Mirrors ``nestingExceeds`` in TypeScript."""
    if len(text) <= 2 * max_depth or text.count("{") + text.count("[") <= max_depth:
        return False
    depth = 0
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if token == "{" or token == "[":
            depth += 1
            if depth > max_depth:
                return True
        elif token == "}" or token == "]":
            depth -= 1
    return False


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?")
_CONSTANTS: Tuple[Tuple[str, Any], ...] = (
    ("true", True),
    ("false", False),
    ("null", None),
    ("NaN", math.nan),
    ("Infinity", math.inf),
    ("-Infinity", -math.inf),
)
Container = Union[Dict[str, Any], List[Any]]


def _skip(text: str, pos: int) -> int:
    return _WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]  # matches the empty string


def _fail(message: str, pos: int) -> FrameDecodeError:
    return FrameDecodeError(f"{message} at char {pos}")


def _key(text: str, pos: int) -> Tuple[str, int]:
    """An object member's name and the colon after it; returns the position of its value."""
    if not text.startswith('"', pos):
        raise _fail("Expecting property name enclosed in double quotes", pos)
    key, pos = scanstring(text, pos + 1)
    pos = _skip(text, pos)
    if not text.startswith(":", pos):
        raise _fail("Expecting ':' delimiter", pos)
    return key, _skip(text, pos + 1)


def _scalar(text: str, pos: int) -> Tuple[Any, int]:
    """A string, number or constant at ``pos``, as ``json.loads`` reads it."""
    if text.startswith('"', pos):
        value: Tuple[str, int] = scanstring(text, pos + 1)
        return value
    number = _NUMBER.match(text, pos)
    if number is not None:
        integer, fraction, exponent = number.groups()
        if fraction or exponent:
            return float(integer + (fraction or "") + (exponent or "")), number.end()
        return int(integer), number.end()
    for name, value in _CONSTANTS:
        if text.startswith(name, pos):
            return value, pos + len(name)
    raise _fail("Expecting value", pos)


def decode_iteratively(text: str, max_depth: int = MAX_SERVER_FRAME_DEPTH) -> Any:
    """``json.loads(text)`` with an explicit stack instead of recursion, refusing nesting deeper
    than ``max_depth`` as soon as it is reached."""
    try:
        return _decode_with_stack(text, max_depth)
    except json.JSONDecodeError as error:  # from scanstring: a broken string
        raise FrameDecodeError(str(error)) from error


def _decode_with_stack(text: str, max_depth: int) -> Any:
    stack: List[Container] = []
    keys: List[Optional[str]] = []  # the member being read, for each open object
    pos = _skip(text, 0)
    while True:
        # One value at `pos`: open a container, or read a scalar.
        char = text[pos : pos + 1]
        value: Any
        if char == "{" or char == "[":
            if len(stack) >= max_depth:
                raise _too_deep(max_depth)
            container: Container = {} if char == "{" else []
            pos = _skip(text, pos + 1)
            if text.startswith("}" if char == "{" else "]", pos):
                value, pos = container, pos + 1
            else:
                stack.append(container)
                if char == "{":
                    key, pos = _key(text, pos)
                    keys.append(key)
                else:
                    keys.append(None)
                continue
        else:
            value, pos = _scalar(text, pos)
        # Put the value in its container, and close every container that ends right after it.
        while True:
            pos = _skip(text, pos)
            if not stack:
                if pos != len(text):
                    raise _fail("Extra data", pos)
                return value
            parent = stack[-1]
            if type(parent) is dict:
                parent[keys[-1]] = value  # type: ignore[index]
            else:
                parent.append(value)  # type: ignore[union-attr]
            char = text[pos : pos + 1]
            if char == ",":
                pos = _skip(text, pos + 1)
                if type(parent) is dict:
                    keys[-1], pos = _key(text, pos)
                break
            if char != ("}" if type(parent) is dict else "]"):
                raise _fail("Expecting ',' delimiter", pos)
            pos += 1
            stack.pop()
            keys.pop()
            value = parent
