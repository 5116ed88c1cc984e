"""Listener sets, each call isolated: a listener that raises is reported and the others still
hear the value, so one buggy callback never breaks delivery, a batch or the socket. A listener may
be a coroutine function: its coroutine runs as a task the client owns, and an exception in it is
reported the same way (never "Task exception was never retrieved")."""
from __future__ import annotations

import asyncio
import inspect
from typing import Any, Awaitable, Callable, Generic, List, Set, TypeVar

T = TypeVar("T")

Failed = Callable[[BaseException, str], None]
"""Where a listener's failure goes: the client reports it to ``on_error`` as ``listener_error``."""


class ListenerTasks:
    """The tasks of async listeners: each kept until it ends, its exception reported through
    ``failed``, and all of them cancelled by ``close()`` (the client's ``disconnect()``)."""

    def __init__(self, failed: Failed) -> None:
        self._failed = failed
        self._tasks: Set["asyncio.Task[Any]"] = set()

    def run(self, awaitable: Awaitable[Any], kind: str) -> None:
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._ended(done, kind))

    def _ended(self, task: "asyncio.Task[Any]", kind: str) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._failed(task.exception(), kind)  # type: ignore[arg-type]

    async def close(self) -> None:
        """Cancel every listener task but the caller's own (a listener may call ``disconnect()``)."""
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current and not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class ListenerSet(Generic[T]):
    """The listeners of one kind (``on_event``, ``on_state``, …)."""

    def __init__(self, kind: str, failed: Failed, tasks: ListenerTasks) -> None:
        self.kind = kind
        self._failed = failed
        self._tasks = tasks
        self._listeners: List[Callable[[T], object]] = []

    def __len__(self) -> int:
        return len(self._listeners)

    def add(self, listener: Callable[[T], object]) -> Callable[[], None]:
        """Add a listener (a function, or a coroutine function); returns its unsubscribe callable."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def emit(self, value: T) -> None:
        if not self._listeners:
            return
        for listener in list(self._listeners):
            try:
                result = listener(value)
            except Exception as cause:  # noqa: BLE001 - isolation is the point
                self._failed(cause, self.kind)
                continue
            if inspect.isawaitable(result):
                self._tasks.run(result, self.kind)
