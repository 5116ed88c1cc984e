"""Messages the gateway asked to have again (an ``error`` naming the message with
``wait_then_retry``: ``message_in_flight``, ``unavailable``): each is resent under its id after the
hint. A new connection's flush resends every pending message anyway, so it cancels them.
Mirrors src/client/message-retries.ts."""
from __future__ import annotations

from typing import Callable, Dict

from .machine import Scheduler, TimerHandle


class MessageRetries:
    """The resend timers of the outbox's messages, at most one per message."""

    def __init__(self, schedule: Scheduler, resend: Callable[[str], None]) -> None:
        self._schedule = schedule
        self._resend = resend
        self._timers: Dict[str, TimerHandle] = {}

    def schedule(self, message_id: str, after_ms: float) -> None:
        """Resend ``message_id`` after ``after_ms`` (a later call for the same id replaces the timer)."""
        earlier = self._timers.pop(message_id, None)
        if earlier is not None:
            earlier.cancel()
        self._timers[message_id] = self._schedule(after_ms, lambda: self._fire(message_id))

    def cancel_all(self) -> None:
        """Drop every timer (a flush resends everything, or the client stopped)."""
        timers, self._timers = self._timers, {}
        for timer in timers.values():
            timer.cancel()

    def _fire(self, message_id: str) -> None:
        self._timers.pop(message_id, None)
        self._resend(message_id)
