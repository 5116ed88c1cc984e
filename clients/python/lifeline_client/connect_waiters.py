"""The futures ``connect()`` waits on: each settles on the first join, on a terminal stop, or when
its own deadline or failure budget runs out, so an app awaiting ``connect()`` at start-up learns
that the URL is wrong instead of waiting forever. Giving up settles the future only; the client
keeps trying until ``disconnect()``. Mirrors src/client/connect-waiters.ts; time is ``loop.time()``."""
from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Callable, List, Optional

from .errors import GatewayConnectError

DEFAULT_CONNECT_TIMEOUT = 30.0
"""Seconds ``connect()`` waits by default (the TypeScript ``connectTimeoutMs``, 30000)."""

GiveUp = Callable[[float, int], GatewayConnectError]
"""The error for a waiter that gave up, given how long it waited (s) and the attempts that failed meanwhile."""


@dataclass
class _Waiter:
    future: "asyncio.Future[None]"
    since: int
    """Failed attempts counted when ``connect()`` was called."""
    max_failures: float
    started_at: float
    timer: Optional[asyncio.TimerHandle] = None


class ConnectWaiters:
    """The waiters of one client; ``failures()`` is its running count of failed attempts."""

    def __init__(self, failures: Callable[[], int], give_up: GiveUp) -> None:
        self._failures = failures
        self._give_up = give_up
        self._waiters: List[_Waiter] = []

    def add(self, timeout: float, max_failures: Optional[int]) -> "asyncio.Future[None]":
        """A new ``connect()`` future: rejected after ``timeout`` seconds (``math.inf``: never) or
        ``max_failures`` failed attempts (None: no budget)."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop.create_future(), self._failures(), math.inf if max_failures is None else max_failures, loop.time())
        if not math.isinf(timeout):
            waiter.timer = loop.call_later(timeout, self._expire, waiter)
        self._waiters.append(waiter)
        return waiter.future

    def forget(self, future: "asyncio.Future[None]") -> None:
        """The caller stopped waiting (cancelled): drop its waiter and timer."""
        for waiter in [w for w in self._waiters if w.future is future]:
            self._remove(waiter)

    def failed(self) -> None:
        """Another attempt failed: waiters whose budget is spent give up."""
        for waiter in list(self._waiters):
            if self._failures() - waiter.since >= waiter.max_failures:
                self._expire(waiter)

    def settle(self, error: Optional[GatewayConnectError]) -> None:
        """Joined (None) or stopped for good (``error``): settle every waiter."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if waiter.timer is not None:
                waiter.timer.cancel()
            if waiter.future.done():
                continue
            if error is None:
                waiter.future.set_result(None)
            else:
                waiter.future.set_exception(error)

    def _remove(self, waiter: _Waiter) -> None:
        if waiter in self._waiters:
            self._waiters.remove(waiter)
        if waiter.timer is not None:
            waiter.timer.cancel()

    def _expire(self, waiter: _Waiter) -> None:
        self._remove(waiter)
        if not waiter.future.done():
            waited = asyncio.get_running_loop().time() - waiter.started_at
            waiter.future.set_exception(self._give_up(waited, self._failures() - waiter.since))
