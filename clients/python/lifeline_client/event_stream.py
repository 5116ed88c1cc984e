"""Fan-out of delivered events to ``events()`` iterators, each with a bounded queue. Events that
arrive before the first ``events()`` call are kept for it (same bound), so ``await connect()``
then ``async for`` misses nothing. At the bound the client does not drop events: the push is
refused, the client drops its connection and rejoins from its cursor once the queue has drained,
so replay is the backpressure."""
from __future__ import annotations

import asyncio
from collections import deque
from typing import AsyncIterator, Deque, List, Optional, Set

from .errors import GatewayConnectError
from .types import GatewayEvent

DEFAULT_MAX_BUFFERED_EVENTS = 10_000
"""Events one ``events()`` iterator (or the early buffer) holds at most."""


class _Stream:
    def __init__(self, queue: Deque[GatewayEvent]) -> None:
        self.queue = queue
        self.ended = False
        self.failure: Optional[GatewayConnectError] = None
        self.wake: Optional["asyncio.Future[None]"] = None

    def notify(self) -> None:
        if self.wake is not None and not self.wake.done():
            self.wake.set_result(None)


class EventStreams:
    """The event fan-out of one client."""

    def __init__(self, max_buffered: int = DEFAULT_MAX_BUFFERED_EVENTS) -> None:
        self.max_buffered = max_buffered
        self._streams: Set[_Stream] = set()
        self._early: Optional[Deque[GatewayEvent]] = deque()
        self._drained: List["asyncio.Future[None]"] = []

    def has_room(self) -> bool:
        """Whether every queue can take one more event."""
        if self._early is not None and len(self._early) >= self.max_buffered:
            return False
        return all(len(s.queue) < self.max_buffered for s in self._streams)

    def push(self, event: GatewayEvent) -> bool:
        """Queue for every iterator; False (nothing queued) when any queue is full."""
        if not self.has_room():
            return False
        if self._early is not None:
            self._early.append(event)
        for stream in self._streams:
            stream.queue.append(event)
            stream.notify()
        return True

    def finish(self, error: Optional[GatewayConnectError]) -> None:
        """End every open iterator: cleanly (None) or by raising ``error`` after the queued events."""
        for stream in list(self._streams):
            stream.ended = True
            stream.failure = error
            stream.notify()
        self._streams.clear()
        self._release_drained()

    def drop_early(self) -> None:
        """Stop keeping early events: the app consumes by listener."""
        self._early = None
        self._release_drained()

    async def wait_drained(self) -> None:
        """Wait until every queue is at most half full (after an overflow, before rejoining)."""
        while not self._below_half():
            future: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
            self._drained.append(future)
            try:
                await future
            finally:
                if future in self._drained:
                    self._drained.remove(future)

    def _below_half(self) -> bool:
        half = self.max_buffered // 2
        if self._early is not None and len(self._early) > half:
            return False
        return all(len(s.queue) <= half for s in self._streams)

    def _release_drained(self) -> None:
        if self._drained and self._below_half():
            for future in self._drained:
                if not future.done():
                    future.set_result(None)

    async def iterate(self) -> AsyncIterator[GatewayEvent]:
        """One iterator with its own queue (the early events for the first one)."""
        queue: Deque[GatewayEvent] = self._early if self._early is not None else deque()
        self._early = None
        stream = _Stream(queue)
        self._streams.add(stream)
        try:
            while True:
                if queue:
                    event = queue.popleft()
                    if self._drained:
                        self._release_drained()
                    yield event
                    continue
                if stream.ended:
                    if stream.failure is not None:
                        raise stream.failure
                    return
                stream.wake = asyncio.get_running_loop().create_future()
                try:
                    await stream.wake
                finally:
                    stream.wake = None
        finally:
            # The consumer stopped (break, cancel, close): its queue no longer holds anyone back.
            self._streams.discard(stream)
            self._release_drained()
