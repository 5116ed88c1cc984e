"""The client's one error type: every failure is a value with a code and the next step."""
from __future__ import annotations

from typing import Any, Dict, Optional

from .protocol import default_next_step


class GatewayConnectError(Exception):
    """Why the client could not connect, or stopped. ``connect()`` raises it, ``on_error``
    receives it, and ``events()`` raises it when the client stops for good.

    Attributes mirror the TypeScript ``GatewayConnectError``: ``code``, ``message``,
    ``next_step``, ``retry_after`` (seconds, from the server's hint) and ``close_code``.
    """

    def __init__(
        self,
        code: str,
        message: str,
        next_step: Optional[str] = None,
        retry_after: Optional[float] = None,
        close_code: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.next_step = next_step if next_step is not None else default_next_step(code)
        self.retry_after = retry_after
        self.close_code = close_code

    def to_dict(self) -> Dict[str, Any]:
        """The serialisable fields, in the TypeScript client's ``ConnectErrorData`` shape."""
        data: Dict[str, Any] = {"code": self.code, "message": self.message, "nextStep": self.next_step}
        if self.retry_after is not None:
            data["retryAfterMs"] = self.retry_after * 1000
        if self.close_code is not None:
            data["closeCode"] = self.close_code
        return data

    def __repr__(self) -> str:
        return f"GatewayConnectError(code={self.code!r}, message={self.message!r}, next_step={self.next_step!r})"


def error_from_data(data: Dict[str, Any]) -> GatewayConnectError:
    """Build the exception from the chart's ``error`` context value."""
    retry_ms = data.get("retryAfterMs")
    return GatewayConnectError(
        str(data["code"]),
        str(data["message"]),
        str(data["nextStep"]),
        None if retry_ms is None else float(retry_ms) / 1000,
        data.get("closeCode"),
    )
