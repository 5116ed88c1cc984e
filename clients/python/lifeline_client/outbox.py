"""The bounded outbox: every message stays here, under its id, until the gateway acknowledges it,
so a reconnect resends it with the same id and the gateway applies it exactly once. Mirrors
src/client/outbox.ts (checked against vectors exported from it)."""
from __future__ import annotations

import asyncio
import json
import math
import uuid
from typing import Any, Callable, Dict, Optional, Tuple

from .errors import GatewayConnectError
from .frames import MessageFrame
from .outbox_store import OutboxStore
from .types import SendResult

Write = Callable[[MessageFrame], bool]
"""Writes one ``message`` frame; False when there is no open socket to write to."""

DEFAULT_OUTBOX_MAX_MESSAGES = 1000
"""Messages queued or awaiting their ack, at most."""


def new_message_id() -> str:
    """A random UUID, as the TypeScript client's ``crypto.randomUUID()``."""
    return str(uuid.uuid4())


def message_frame(message_id: str, content: Any) -> MessageFrame:
    """The ``message`` frame that carries ``content`` under its id (the same id on every resend)."""
    return {"type": "message", "id": message_id, "content": content}


def frame_bytes(message_id: str, content: Any) -> int:
    """UTF-8 bytes of the ``message`` frame as written (compact JSON, as ``JSON.stringify``).
    Raises ``TypeError``/``ValueError`` for content that is not JSON."""
    return len(json.dumps(message_frame(message_id, content), separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode())


def too_large(size: int, max_bytes: float) -> GatewayConnectError:
    """The ``payload_too_large`` refusal of a message the client will not send."""
    return GatewayConnectError(
        "payload_too_large",
        f"The message frame is {size} bytes (UTF-8) and the gateway accepts at most {max_bytes:.0f} (policy.max_payload). It was not sent; send less or split it.",
        "do_not_retry",
    )


class _Entry:
    """One unacknowledged message. ``future`` is None for one restored from the store: the
    send() that made it belonged to an earlier run."""

    __slots__ = ("content", "future", "bytes", "written")

    def __init__(self, content: Any, future: "Optional[asyncio.Future[SendResult]]", size: int) -> None:
        self.content = content
        self.future = future
        self.bytes = size
        self.written = 0
        """The flush (connection) it was last written in; 0 before its first write."""


class Outbox:
    """A bounded, ordered store of messages awaiting acknowledgement."""

    def __init__(self, max_messages: int = DEFAULT_OUTBOX_MAX_MESSAGES, make_id: Callable[[], str] = new_message_id, store: Optional[OutboxStore] = None) -> None:
        self.max_messages = max_messages
        self._make_id = make_id
        self._store = store
        # dicts keep insertion order, so flush resends oldest first.
        self._pending: Dict[str, _Entry] = {}
        # Flushes so far: one per connection, so ``written == _flushes`` means "sent on this one".
        self._flushes = 0
        self.learned_max: float = math.inf
        """The largest frame the link takes, learned from a 1009/4009 close; unknown: infinity."""
        self.dropped_on_restore = 0
        """Stored messages beyond ``max_messages`` (or not JSON) found at creation: dropped from the store, never sent."""
        for message_id, content in store.load() if store is not None else []:
            size = _size_or_none(message_id, content) if len(self._pending) < max_messages else None
            if size is not None:
                self._pending[message_id] = _Entry(content, None, size)
            else:
                self.dropped_on_restore += 1
                store.delete(message_id)  # type: ignore[union-attr]

    @property
    def size(self) -> int:
        return len(self._pending)

    def limit(self, announced: Optional[int] = None) -> float:
        """The largest frame to write: the gateway's ``policy.max_payload``, or less once a close
        taught the client that the link takes less."""
        return min(math.inf if announced is None else announced, self.learned_max)

    def add(self, content: Any, announced: Optional[int] = None) -> Tuple[str, "asyncio.Future[SendResult]"]:
        """Add a message. Fails at once with ``outbox_full`` when full: dropping silently would
        break exactly-once, and blocking would hide the backlog from the app. Fails with
        ``invalid_message`` for content that is not JSON, and with ``payload_too_large`` for a frame
        over ``announced`` (``policy.max_payload``) or the learned limit: it could never be sent."""
        future: "asyncio.Future[SendResult]" = asyncio.get_running_loop().create_future()
        if len(self._pending) >= self.max_messages:
            return _refused(future, GatewayConnectError("outbox_full", f"The outbox holds {self.max_messages} unacknowledged messages; wait for the connection or raise outbox_max_messages."))
        message_id = self._make_id()
        try:
            size = frame_bytes(message_id, content)
        except (TypeError, ValueError) as cause:
            # A set or a cycle: refusing here beats a raise inside a later flush on the socket path.
            error = GatewayConnectError("invalid_message", f"The message content cannot be encoded as JSON: {cause}", "do_not_retry")
            error.__cause__ = cause
            return _refused(future, error)
        max_bytes = self.limit(announced)
        if size > max_bytes:
            return _refused(future, too_large(size, max_bytes))
        if self._store is not None:
            try:
                self._store.put(message_id, content)
            except Exception as cause:  # noqa: BLE001 - a store that cannot keep it refuses the send
                error = GatewayConnectError("outbox_store_failed", f"The outbox store could not keep this message ({cause}); it was not sent.", "do_not_retry")
                error.__cause__ = cause
                return _refused(future, error)
        self._pending[message_id] = _Entry(content, future, size)
        return message_id, future

    def content_of(self, message_id: str) -> Optional[Any]:
        entry = self._pending.get(message_id)
        return None if entry is None else entry.content

    def _write(self, message_id: str, write: Write, acks: bool) -> bool:
        entry = self._pending[message_id]
        if not write(message_frame(message_id, entry.content)):
            return False
        entry.written = self._flushes
        if not acks:
            self._settle(message_id, SendResult(message_id, False, False))
        return True

    def flush(self, write: Write, acks: bool, announced: Optional[int] = None) -> None:
        """Write every pending message, oldest first (one flush per connection); stop at the first
        failed write. A message over the limit (queued before it was known) is refused, never sent."""
        self._flushes += 1
        max_bytes = self.limit(announced)
        for message_id in list(self._pending):
            entry = self._pending.get(message_id)
            if entry is None:
                continue
            if entry.bytes > max_bytes:
                self.fail(message_id, too_large(entry.bytes, max_bytes))
            elif not self._write(message_id, write, acks):
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
        if entry is not None and entry.future is not None and not entry.future.done():
            entry.future.set_exception(error)

    def refuse_largest_in_flight(self, close_code: int) -> Optional[int]:
        """The connection closed with "message too big" (1009, or 4009) although no limit was
        announced, or one was exceeded anyway (a proxy in front with a smaller frame limit): the
        largest message written on that connection and not yet acknowledged is the one it could not
        take. Reject it with ``payload_too_large`` and refuse any message at least that big from now
        on, so a rejoin does not send it again and again. Returns the learned limit, or None when
        no written message was pending."""
        largest: Optional[Tuple[str, _Entry]] = None
        for message_id, entry in self._pending.items():
            if self._flushes > 0 and entry.written == self._flushes and (largest is None or entry.bytes > largest[1].bytes):
                largest = (message_id, entry)
        if largest is None:
            return None
        message_id, entry = largest
        learned = entry.bytes - 1
        self.learned_max = min(self.learned_max, learned)
        self.fail(
            message_id,
            GatewayConnectError(
                "payload_too_large",
                f"The gateway closed the connection ({close_code}: message too big) after this {entry.bytes}-byte message frame, so it takes less than that; "
                "it was not sent again, and bigger messages are refused from now on. Send less or split it.",
                "do_not_retry",
                close_code=close_code,
            ),
        )
        return int(self.learned_max)

    def reject_all(self, error: GatewayConnectError) -> None:
        """Reject everything (user disconnect, terminal stop)."""
        for message_id in list(self._pending):
            self.fail(message_id, error)

    def _settle(self, message_id: str, result: SendResult) -> None:
        entry = self._remove(message_id)
        if entry is not None and entry.future is not None and not entry.future.done():
            entry.future.set_result(result)

    def _remove(self, message_id: str) -> Optional[_Entry]:
        entry = self._pending.pop(message_id, None)
        if entry is not None and self._store is not None:
            self._store.delete(message_id)
        return entry


def _refused(future: "asyncio.Future[SendResult]", error: GatewayConnectError) -> Tuple[str, "asyncio.Future[SendResult]"]:
    future.set_exception(error)
    return "", future


def _size_or_none(message_id: str, content: Any) -> Optional[int]:
    try:
        return frame_bytes(message_id, content)
    except (TypeError, ValueError):
        return None
