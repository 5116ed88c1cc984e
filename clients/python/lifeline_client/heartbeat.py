"""The heartbeat watchdog: while joined, it judges liveness by silence (any frame counts) against
the negotiated ``policy.heartbeat_ms``, on the loop's monotonic clock. After one interval of
silence it pings; after two it presumes the socket half-open and reports ``heartbeat.missed``.
A monotonic clock does not count a machine's suspend, so each tick also looks for a wake-up (wall
time running ahead of monotonic time, or a tick far past its time) and answers it with one probe:
a ping that must be answered within one interval. Mirrors src/client/heartbeat-watchdog.ts."""
from __future__ import annotations

import asyncio
import time
from typing import Callable, Optional, Protocol

from .frames import PingFrame

MIN_WAKE_GAP = 1.0
"""Smallest gap (seconds) that counts as a wake-up; the interval when that is longer."""


class WatchedLink(Protocol):
    """The connection the watchdog watches."""

    @property
    def last_seen(self) -> float:
        """Loop time of the last frame read."""
        ...


class Watchdog:
    """One joined stretch of liveness checks; timers are loop handles, so stopping leaves nothing."""

    def __init__(
        self,
        link: WatchedLink,
        interval: float,
        write: Callable[[PingFrame], object],
        missed: Callable[[], None],
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._link = link
        self._interval = interval
        self._write = write
        self._missed_cb = missed
        self._wall = wall
        self._wake_gap = max(interval, MIN_WAKE_GAP)
        self._handle: Optional[asyncio.TimerHandle] = None
        self._due = 0.0
        self._pinged_for = -1.0
        self._missed = False
        self._probe: Optional["tuple[float, float]"] = None  # (sent at, deadline)
        self._last = (self._loop.time(), wall())
        self._arm(interval)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def probe(self) -> None:
        """Check now and ask for an answer within one interval (page visible, network back)."""
        self.stop()
        self._check(False, True)

    def _arm(self, delay: float) -> None:
        delay = max(0.001, delay)
        self._due = self._loop.time() + delay
        self._handle = self._loop.call_later(delay, self._check, True, False)

    def _ping(self) -> None:
        self._pinged_for = self._link.last_seen
        # `ts` is a wire timestamp (echoed in `pong`), so it is wall-clock; no deadline reads it.
        self._write({"type": "ping", "ts": round(self._wall() * 1000)})

    def _woke_up(self, now: float, from_timer: bool) -> bool:
        wall = self._wall()
        suspended = (wall - self._last[1]) - (now - self._last[0]) > self._wake_gap
        late = from_timer and now - self._due > self._wake_gap
        self._last = (now, wall)
        return suspended or late

    def _check(self, from_timer: bool, probe_now: bool) -> None:
        self._handle = None
        if self._missed:
            return
        now = self._loop.time()
        woke = self._woke_up(now, from_timer)
        if self._probe is not None and self._link.last_seen >= self._probe[0]:
            self._probe = None
        silent = now - self._link.last_seen
        if silent >= 2 * self._interval or (self._probe is not None and now >= self._probe[1]):
            self._missed = True
            # The chart answers with its terminate command: the socket actor aborts the socket.
            self._missed_cb()
            return
        # One probe at a time: a wake-up asks for an answer within one interval instead of trusting
        # a socket that may have died meanwhile.
        if (woke or probe_now) and self._probe is None:
            self._ping()
            self._probe = (now, now + self._interval)
        # Provoke traffic once per silence: a gateway that pings less often still answers a ping.
        elif silent >= self._interval and self._pinged_for != self._link.last_seen:
            self._ping()
        until_silence = self._interval - silent if silent < self._interval else 2 * self._interval - silent
        self._arm(until_silence if self._probe is None else min(until_silence, self._probe[1] - now))
