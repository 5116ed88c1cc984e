"""The side effects the lifecycle chart triggers, as ports: the client plugs in the real ones
(chart_ports.py); ``InertPorts`` lets the chart run on events alone (tests, vectors)."""
from __future__ import annotations

from typing import Protocol


class LifecyclePorts(Protocol):
    """The side effects the chart triggers; the client plugs in the real ones."""

    def open_socket(self, handshake: str, attempt: int) -> None: ...
    def close_socket(self) -> None: ...
    def terminate_socket(self) -> None: ...
    def flush_outbox(self) -> None: ...
    def start_heartbeat(self, heartbeat_ms: float) -> None: ...
    def stop_heartbeat(self) -> None: ...
    def probe_liveness(self) -> None: ...


class InertPorts:
    """Ports that do nothing: the chart runs on its own, driven by events (tests, vectors)."""

    def open_socket(self, handshake: str, attempt: int) -> None:
        pass

    def close_socket(self) -> None:
        pass

    def terminate_socket(self) -> None:
        pass

    def flush_outbox(self) -> None:
        pass

    def start_heartbeat(self, heartbeat_ms: float) -> None:
        pass

    def stop_heartbeat(self) -> None:
        pass

    def probe_liveness(self) -> None:
        pass
