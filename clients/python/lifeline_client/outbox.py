"""The bounded outbox: every message stays here, under its id, until the gateway acknowledges it,
so a reconnect resends it with the same id and the gateway applies it exactly once. Mirrors
src/client/outbox.ts (checked against vectors exported from it)."""
from __future__ import annotations

import asyncio
import uuid
from typing import Any, Callable, Dict, Optional, Tuple

from .errors import GatewayConnectError
from .types import SendResult

Write = Callable[[Dict[str, Any]], bool]
"""Writes one ``message`` frame; False when there is no open socket to write to."""

DEFAULT_OUTBOX_MAX_MESSAGES = 1000
"""Messages queued or awaiting their ack, at most."""


def new_message_id() -> str:
    """A random UUID, as the TypeScript client's ``crypto.randomUUID()``."""
    return str(uuid.uuid4())


class Outbox:
    """A bounded, ordered store of messages awaiting acknowledgement."""

    def __init__(self, max_messages: int = DEFAULT_OUTBOX_MAX_MESSAGES, make_id: Callable[[], str] = new_message_id) -> None:
        self.max_messages = max_messages
        self._make_id = make_id
        # dicts keep insertion order, so flush resends oldest first.
        self._pending: Dict[str, Tuple[Any, "asyncio.Future[SendResult]"]] = {}

    @property
    def size(self) -> int:
        return len(self._pending)

    def add(self, content: Any) -> Tuple[str, "asyncio.Future[SendResult]"]:
        """Add a message. Fails at once with ``outbox_full`` when full: dropping silently would
        break exactly-once, and blocking would hide the backlog from the app."""
        future: "asyncio.Future[SendResult]" = asyncio.get_running_loop().create_future()
        if len(self._pending) >= self.max_messages:
            future.set_exception(
                GatewayConnectError(
                    "outbox_full",
                    f"The outbox holds {self.max_messages} unacknowledged messages; wait for the connection or raise outbox_max_messages.",
                )
            )
            return "", future
        message_id = self._make_id()
        self._pending[message_id] = (content, future)
        return message_id, future

    def content_of(self, message_id: str) -> Optional[Any]:
        entry = self._pending.get(message_id)
        return None if entry is None else entry[0]

    def _write(self, message_id: str, write: Write, acks: bool) -> bool:
        content, _ = self._pending[message_id]
        if not write({"type": "message", "id": message_id, "content": content}):
            return False
        if not acks:
            self._settle(message_id, SendResult(message_id, False, False))
        return True

    def flush(self, write: Write, acks: bool) -> None:
        """Write every pending message, oldest first; stop at the first failed write."""
        for message_id in list(self._pending):
            if message_id in self._pending and not self._write(message_id, write, acks):
                return

    def write_one(self, message_id: str, write: Write, acks: bool) -> None:
        """Write one message now (it was just added while joined)."""
        if message_id in self._pending:
            self._write(message_id, write, acks)

    def ack(self, message_id: str, duplicate: bool) -> None:
        self._settle(message_id, SendResult(message_id, duplicate, True))

    def fail(self, message_id: str, error: GatewayConnectError) -> None:
        """The gateway refused this message (e.g. ``payload_too_large``): it is never resent."""
        entry = self._pending.pop(message_id, None)
        if entry is not None and not entry[1].done():
            entry[1].set_exception(error)

    def reject_all(self, error: GatewayConnectError) -> None:
        """Reject everything (user disconnect, terminal stop)."""
        entries = list(self._pending.values())
        self._pending.clear()
        for _, future in entries:
            if not future.done():
                future.set_exception(error)

    def _settle(self, message_id: str, result: SendResult) -> None:
        entry = self._pending.pop(message_id, None)
        if entry is not None and not entry[1].done():
            entry[1].set_result(result)
