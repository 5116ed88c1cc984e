"""The chart's ports (``LifecyclePorts``) for a real client: the socket actor's commands, the
outbox flush and the heartbeat watchdog, which lives here from ``start_heartbeat`` to
``stop_heartbeat``."""
from __future__ import annotations

import functools
from typing import Callable, Optional

from .connection import Connection
from .heartbeat import Watchdog
from .socket_actor import SocketActor


class ChartPorts:
    """The chart's side effects, wired to one client's socket actor, outbox and heartbeat watchdog
    (owned here). The client keeps one privately, so that none of them is public API."""

    def __init__(
        self,
        socket: SocketActor,
        open_socket: Callable[[str, int], None],
        flush_outbox: Callable[[], None],
        heartbeat_missed: Callable[[], None],
    ) -> None:
        self._socket = socket
        self._open = open_socket
        self._flush = flush_outbox
        self._missed = heartbeat_missed
        self._watchdog: Optional[Watchdog] = None

    def open_socket(self, handshake: str, attempt: int) -> None:
        self._open(handshake, attempt)

    def close_socket(self) -> None:
        self._socket.close()

    def terminate_socket(self) -> None:
        self._socket.terminate()

    def flush_outbox(self) -> None:
        self._flush()

    def start_heartbeat(self, heartbeat_ms: float) -> None:
        self.stop_heartbeat()
        connection = self._socket.connection
        # 0 means the gateway does not ping: no watchdog rather than false alarms.
        if heartbeat_ms > 0 and connection is not None:
            self._watchdog = Watchdog(connection, heartbeat_ms / 1000, connection.write, functools.partial(self._heartbeat_missed, connection))

    def stop_heartbeat(self) -> None:
        if self._watchdog is not None:
            self._watchdog.stop()
            self._watchdog = None

    def probe_liveness(self) -> None:
        if self._watchdog is not None:
            self._watchdog.probe()

    def _heartbeat_missed(self, connection: Connection) -> None:
        self._watchdog = None
        if connection.live:
            self._missed()
