"""Where one socket's frame router sends what it reads: that connection, or the client through
its ``SocketHost``."""
from __future__ import annotations

from typing import Any, Mapping, Optional

from .connection import Connection, Frame, SocketHost
from .credentials import auth_required_hint
from .errors import GatewayConnectError
from .gateway_terms import terms_of
from .types import SessionSnapshot


class ConnectionRouterTarget:
    """Where one socket's router sends what it reads: this connection, or the host."""

    def __init__(self, host: SocketHost, connection: Connection) -> None:
        self._host = host
        self._connection = connection
        self.tracker = host.tracker

    def send(self, frame: Frame) -> None:
        self._connection.write(frame)

    def lifecycle(self, event: Mapping[str, Any]) -> None:
        if self._connection.live:
            self._host.lifecycle(self._refusal_seen(event) if event["type"] == "hello.rejected" else event)

    def _refusal_seen(self, event: Mapping[str, Any]) -> Mapping[str, Any]:
        """A refusal never quotes the token; after ``auth_required`` it says where this attempt
        sent one (a gateway that reads only ``?token=`` looks like one that got none)."""
        message = self._connection.shown(str(event["message"]))
        placement = self._connection.placement
        if event["code"] == "auth_required" and placement is not None:
            message = f"{message} {auth_required_hint(placement)}"
        return {**event, "message": message}

    def send_join(self) -> None:
        self._connection.write(self._host.handshake_frame("join", self._connection.token))

    def accepted(self, frame: Mapping[str, Any]) -> None:
        self._host.accepted(terms_of(frame))

    def ack(self, message_id: str, duplicate: bool) -> None:
        self._host.ack(message_id, duplicate)

    def message_error(self, message_id: str, error: GatewayConnectError) -> None:
        self._host.message_error(message_id, error)

    def message_retry(self, message_id: str, after_ms: float) -> None:
        self._host.message_retry(message_id, after_ms)

    def snapshot(self, state: Any, cursor: int, epoch: Optional[str]) -> None:
        self._host.snapshot(SessionSnapshot(state, cursor, epoch))

    def error(self, error: GatewayConnectError) -> None:
        self._host.report(error)

    def overflow(self) -> None:
        self._host.overflow()
