"""The bounded outbox: every message stays here, under its id, until the gateway acknowledges it,
so a reconnect resends it with the same id and the gateway applies it exactly once. Mirrors
src/client/outbox.ts (checked against vectors exported from it)."""
from __future__ import annotations

import asyncio
import uuid
from typing import Any, Callable, Dict, Optional, Tuple

from .errors import GatewayConnectError
from .outbox_store import OutboxStore
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

    def __init__(self, max_messages: int = DEFAULT_OUTBOX_MAX_MESSAGES, make_id: Callable[[], str] = new_message_id, store: Optional[OutboxStore] = None) -> None:
        self.max_messages = max_messages
        self._make_id = make_id
        self._store = store
        # dicts keep insertion order, so flush resends oldest first. A message restored from the
        # store has no future: the send() that made it belonged to an earlier run.
        self._pending: Dict[str, Tuple[Any, "Optional[asyncio.Future[SendResult]]"]] = {}
        self.dropped_on_restore = 0
        """Stored messages beyond ``max_messages`` found at creation: dropped from the store, never sent."""
        for message_id, content in store.load() if store is not None else []:
            if len(self._pending) < max_messages:
                self._pending[message_id] = (content, None)
            else:
                self.dropped_on_restore += 1
                store.delete(message_id)  # type: ignore[union-attr]

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
        if self._store is not None:
            try:
                self._store.put(message_id, content)
            except Exception as cause:  # noqa: BLE001 - a store that cannot keep it refuses the send
                error = GatewayConnectError("outbox_store_failed", f"The outbox store could not keep this message ({cause}); it was not sent.", "do_not_retry")
                error.__cause__ = cause
                future.set_exception(error)
                return "", future
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
        entry = self._remove(message_id)
        if entry is not None and entry[1] is not None and not entry[1].done():
            entry[1].set_exception(error)

    def reject_all(self, error: GatewayConnectError) -> None:
        """Reject everything (user disconnect, terminal stop)."""
        for message_id in list(self._pending):
            self.fail(message_id, error)

    def _settle(self, message_id: str, result: SendResult) -> None:
        entry = self._remove(message_id)
        if entry is not None and entry[1] is not None and not entry[1].done():
            entry[1].set_result(result)

    def _remove(self, message_id: str) -> "Optional[Tuple[Any, Optional[asyncio.Future[SendResult]]]]":
        entry = self._pending.pop(message_id, None)
        if entry is not None and self._store is not None:
            self._store.delete(message_id)
        return entry
