"""Fan-out of delivered events to ``events()`` iterators, each with a bounded queue. At the bound
the push is refused and the client leaves the gateway (the chart's ``consumer.overflow``), then
rejoins from its cursor once every loop has read down to half (``consumer.drained``): replay is the
backpressure, nothing is lost. Events that arrive before the first ``events()`` call are kept for
it up to the same bound; past it they are not kept, and ``early_dropped`` says so."""
from __future__ import annotations

import asyncio
from collections import deque
from typing import AsyncIterator, Callable, Deque, Optional, Set

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

    def __init__(
        self,
        max_buffered: int = DEFAULT_MAX_BUFFERED_EVENTS,
        drained: Callable[[], None] = lambda: None,
        early_dropped: Callable[[int], None] = lambda count: None,
    ) -> None:
        self.max_buffered = max_buffered
        self._on_drained = drained
        self._on_early_dropped = early_dropped
        self._streams: Set[_Stream] = set()
        self._early: Optional[Deque[GatewayEvent]] = deque()
        self._paused = False
        self.early_dropped = 0
        """Events not kept for a first ``events()`` loop because nobody took them in time."""

    @property
    def buffered(self) -> int:
        """Events waiting in the fullest queue."""
        return max((len(s.queue) for s in self._streams), default=0)

    def push(self, event: GatewayEvent) -> bool:
        """Queue for every iterator; False (nothing queued) when a loop's queue is full."""
        streams = self._streams
        for stream in streams:
            if len(stream.queue) >= self.max_buffered:
                self._paused = True
                return False
        if self._early is not None:
            if len(self._early) < self.max_buffered:
                self._early.append(event)
            else:
                self.early_dropped += 1
                if self.early_dropped == 1 or self.early_dropped % self.max_buffered == 0:
                    self._on_early_dropped(self.early_dropped)
        for stream in streams:
            stream.queue.append(event)
            if stream.wake is not None:
                stream.notify()
        return True

    def finish(self, error: Optional[GatewayConnectError]) -> None:
        """End every open iterator: cleanly (None) or by raising ``error`` after the queued events."""
        for stream in list(self._streams):
            stream.ended = True
            stream.failure = error
            stream.notify()
        self._streams.clear()
        self._check_drained()

    def drop_early(self) -> None:
        """Stop keeping early events: the app consumes by listener."""
        self._early = None

    def _check_drained(self) -> None:
        """After an overflow: tell the client once every loop is down to half the bound."""
        if self._paused and all(len(s.queue) <= self.max_buffered // 2 for s in self._streams):
            self._paused = False
            self._on_drained()

    def iterate(self) -> "EventIterator":
        """One iterator with its own queue (the early events for the first one), registered now,
        so events published before the first ``__anext__`` are kept for it."""
        queue: Deque[GatewayEvent] = self._early if self._early is not None else deque()
        self._early = None
        stream = _Stream(queue)
        self._streams.add(stream)
        return EventIterator(self, stream)

    def _close(self, stream: _Stream) -> None:
        stream.ended = True
        self._streams.discard(stream)
        self._check_drained()


class EventIterator(AsyncIterator[GatewayEvent]):
    """What ``events()`` returns. ``aclose()`` (or leaving an ``async for``) stops its queue;
    cancelling a task waiting in it leaves nothing behind."""

    def __init__(self, owner: EventStreams, stream: _Stream) -> None:
        self._owner = owner
        self._stream = stream

    def __aiter__(self) -> "EventIterator":
        return self

    async def __anext__(self) -> GatewayEvent:
        stream = self._stream
        while True:
            if stream.queue:
                event = stream.queue.popleft()
                if self._owner._paused:
                    self._owner._check_drained()
                return event
            if stream.ended:
                self._owner._close(stream)
                if stream.failure is not None:
                    failure, stream.failure = stream.failure, None
                    raise failure
                raise StopAsyncIteration
            stream.wake = asyncio.get_running_loop().create_future()
            try:
                await stream.wake
            finally:
                stream.wake = None

    async def aclose(self) -> None:
        self._owner._close(self._stream)
        self._stream.queue.clear()

    def __del__(self) -> None:
        # An abandoned iterator (a broken-off loop) must not hold the backpressure forever.
        if not self._stream.ended:
            self._owner._close(self._stream)
