"""Listener sets, each call isolated: a listener that raises is reported and the others still
hear the value, so one buggy callback never breaks delivery, a batch or the socket."""
from __future__ import annotations

from typing import Callable, Generic, List, TypeVar

T = TypeVar("T")


class ListenerSet(Generic[T]):
    """The listeners of one kind (``on_event``, ``on_state``, …)."""

    def __init__(self, kind: str, failed: Callable[[BaseException, str], None]) -> None:
        self.kind = kind
        self._failed = failed
        self._listeners: List[Callable[[T], object]] = []

    def __len__(self) -> int:
        return len(self._listeners)

    def add(self, listener: Callable[[T], object]) -> Callable[[], None]:
        """Add a listener; returns its unsubscribe callable."""
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
                listener(value)
            except Exception as cause:  # noqa: BLE001 - isolation is the point
                self._failed(cause, self.kind)
