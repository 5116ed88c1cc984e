"""Where unacknowledged sends outlive the process: a protocol the outbox writes through, with an
in-memory and a JSON-file implementation (the Python counterpart of the TypeScript client's
``localStorage`` store). Synchronous on purpose, so a message is stored before ``send()`` goes on
and a crash right after loses nothing."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Protocol, Tuple, Union

StoredMessage = Tuple[str, Any]
"""One unacknowledged message: its id and content (which must survive ``json.dumps`` for files)."""


class OutboxStore(Protocol):
    """Keeps the outbox's unacknowledged messages across a restart. The client calls ``put`` when
    a message is added, ``delete`` when it is acknowledged, refused or rejected, and ``load`` once
    at creation: what it returns is resent on the next join, with the same ids, so the gateway
    applies each once."""

    def load(self) -> List[StoredMessage]: ...
    def put(self, message_id: str, content: Any) -> None: ...
    def delete(self, message_id: str) -> None: ...


class MemoryOutboxStore:
    """Survives a client being recreated in the same process, not a restart."""

    def __init__(self) -> None:
        self._messages: Dict[str, Any] = {}

    def load(self) -> List[StoredMessage]:
        return list(self._messages.items())

    def put(self, message_id: str, content: Any) -> None:
        self._messages[message_id] = content

    def delete(self, message_id: str) -> None:
        self._messages.pop(message_id, None)


class FileOutboxStore:
    """One JSON file, rewritten atomically (write a temporary file, then rename) on every change."""

    def __init__(self, path: Union[str, "os.PathLike[str]"]) -> None:
        self.path = Path(path)
        self._messages: Dict[str, Any] = dict(self._read())

    def _read(self) -> List[StoredMessage]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        return [(str(m["id"]), m["content"]) for m in data]

    def _write(self) -> None:
        text = json.dumps([{"id": i, "content": c} for i, c in self._messages.items()])
        fd, tmp = tempfile.mkstemp(dir=str(self.path.parent), prefix=self.path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, self.path)

    def load(self) -> List[StoredMessage]:
        return list(self._messages.items())

    def put(self, message_id: str, content: Any) -> None:
        json.dumps(content)  # unserialisable content fails here, before it is kept
        self._messages[message_id] = content
        self._write()

    def delete(self, message_id: str) -> None:
        if self._messages.pop(message_id, None) is not None:
            self._write()
