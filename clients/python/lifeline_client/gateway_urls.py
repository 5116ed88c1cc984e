"""Which gateway node each connection attempt goes to: one URL, a list tried in turn, or an app
function asked before every attempt (sync or async). Mirrors src/client/gateway-urls.ts: a fleet
behind no load balancer (or one being rolled) needs no code of the app's, since a failed attempt,
a drop or a drain moves the client to the next node."""
from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Awaitable, Callable, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit

from .errors import GatewayConnectError
from .protocol import CLOSE_GOING_AWAY
from .types import CloseInfo

_SCHEMES = ("ws", "wss", "http", "https")


@dataclass(frozen=True)
class UrlContext:
    """What the client knows when it picks the URL of the next attempt (TypeScript ``GatewayUrlContext``)."""

    attempt: int
    """Consecutive failed attempts so far (``info.attempt``); 0 for a first or stable connection."""
    previous_url: Optional[str]
    """The URL of the previous attempt, as opened; None before the first."""
    last_close: Optional[CloseInfo]
    """How the previous connection (or attempt) ended; None before the first."""
    drain: bool
    """True when the previous node drained or shut down (close 1001): not a failure, but move on."""


UrlFunction = Callable[[UrlContext], Union[str, Awaitable[str]]]
"""Called before every attempt; returns (or resolves to) the URL to use."""

GatewayUrl = Union[str, Sequence[str], UrlFunction]
"""Where the gateway is: one URL, a list of node URLs tried in turn, or a function."""


def gateway_url(url: str) -> str:
    """``http://`` becomes ``ws://`` and ``https://`` becomes ``wss://``, as the TypeScript client and browsers do."""
    if url[:6].lower() == "https:":
        return "wss:" + url[6:]
    if url[:5].lower() == "http:":
        return "ws:" + url[5:]
    return url


def url_problem(url: object, name: str = "url") -> Optional[str]:
    """The problem with one URL, or None when it is an absolute ws(s) or http(s) URL. The texts
    are the TypeScript client's (tests/vectors/gateway-urls.json holds both to them)."""
    if not isinstance(url, str):
        return f"{name} must be a string; got {type(url).__name__} {url!r}."
    absolute = f"{name} must be an absolute ws://, wss://, http:// or https:// URL; got {json.dumps(url, ensure_ascii=False)}."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range, as `new URL` throws
    except ValueError:
        return absolute
    scheme = parts.scheme.lower()
    if scheme == "":
        return absolute
    if scheme not in _SCHEMES:
        return f"{name} must use ws:, wss:, http: or https: (http(s) is used as ws(s), as browsers do); got {scheme}:"
    # Stricter than `new URL` (which reads `ws:host` as `ws://host`): websockets needs the `//host`.
    if not url[len(scheme) + 1 :].startswith("//") or not parts.hostname:
        return absolute
    return None


def gateway_url_problem(source: object) -> Optional[str]:
    """The problem with the ``url`` option, or None."""
    if isinstance(source, str):
        return url_problem(source)
    if callable(source):
        return None
    if isinstance(source, Sequence) and not isinstance(source, (bytes, bytearray)):
        if len(source) == 0:
            return "url must not be an empty list."
        for i, url in enumerate(source):
            problem = url_problem(url, f"url[{i}]")
            if problem is not None:
                return problem
        return None
    return f"url must be a string, a list of strings or a function returning one; got {type(source).__name__}."


class UrlPicker:
    """Picks the URL of each attempt and remembers it for ``info.url``. A list is tried in turn:
    every attempt after the first goes to the next URL, wrapping around."""

    def __init__(self, source: GatewayUrl) -> None:
        self._fixed: Optional[str] = None
        self._urls: Tuple[str, ...] = ()
        self._function: Optional[UrlFunction] = None
        if isinstance(source, str):
            self._fixed = gateway_url(source)
        elif callable(source):
            self._function = source
        else:
            # A copy: the app changing its list later does not move the client.
            self._urls = tuple(gateway_url(url) for url in source)
        self._index = -1
        self.current: Optional[str] = None
        """The URL of the current (or last) attempt, as opened; None before the first."""

    @property
    def fixed(self) -> Optional[str]:
        """The one URL when ``url`` was a string, else None."""
        return self._fixed

    async def next(self, attempt: int, last_close: Optional[CloseInfo]) -> str:
        """The URL of the next attempt. Raises ``connect_failed`` when the app's function raises
        or returns anything but a ws(s)/http(s) URL; the client counts that as a failed attempt."""
        if self._fixed is not None:
            url = self._fixed
        elif self._function is not None:
            url = gateway_url(await self._ask(UrlContext(attempt, self.current, last_close, last_close is not None and last_close.code == CLOSE_GOING_AWAY)))
        else:
            self._index = (self._index + 1) % len(self._urls)
            url = self._urls[self._index]
        self.current = url
        return url

    async def _ask(self, context: UrlContext) -> str:
        assert self._function is not None
        try:
            picked: object = self._function(context)
            if inspect.isawaitable(picked):
                picked = await picked
        except Exception as cause:  # noqa: BLE001 - the app's function may fail any way
            error = GatewayConnectError("connect_failed", f"The url function failed: {type(cause).__name__}: {cause}", "wait_then_retry")
            error.__cause__ = cause
            raise error from cause
        problem = url_problem(picked, "url()")
        if problem is not None:
            raise GatewayConnectError("connect_failed", problem, "wait_then_retry")
        assert isinstance(picked, str)
        return picked
