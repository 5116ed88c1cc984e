"""Why a socket failed, in words a person can act on: the ``connect_failed`` error of an attempt
whose socket never opened. Mirrors src/client/connect-failure.ts: the exception is read as the
cause Node would name (``ECONNREFUSED``, ``ENOTFOUND``, an HTTP status instead of the 101 upgrade, a
TLS code), and the words are the TypeScript client's (tests/vectors/gateway-urls.json holds both
clients to them)."""
from __future__ import annotations

import asyncio
import errno
import re
import socket
import ssl
from typing import Optional, Tuple
from urllib.parse import urlsplit

from .credentials import redact_tokens
from .errors import GatewayConnectError

_TLS_CODE = re.compile(r"^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|EPROTO$)")
_HTTP_ANSWER = re.compile(r"Unexpected server response: (\d{3})")
_ERRNO_IN_TEXT = re.compile(r"\[Errno (\d+)\]")
_GAI_CODES = {getattr(socket, "EAI_NONAME", -2): "ENOTFOUND", getattr(socket, "EAI_AGAIN", -3): "EAI_AGAIN"}


def cause_of(cause: BaseException) -> Tuple[Optional[str], str]:
    """The cause as Node's ``ws`` would report it: a code (``ECONNREFUSED``) and a message. An HTTP
    answer reads ``Unexpected server response: <status>``, as ``ws`` words it."""
    status = getattr(cause, "status_code", None)  # websockets 10.4: InvalidStatusCode
    response = getattr(cause, "response", None)  # later releases: InvalidStatus(response)
    if status is None and response is not None:
        status = getattr(response, "status_code", None)
    if isinstance(status, int):
        return None, f"Unexpected server response: {status}"
    if isinstance(cause, socket.gaierror):
        return _GAI_CODES.get(cause.errno or 0, "ENOTFOUND"), str(cause)
    if isinstance(cause, ssl.SSLError):
        reason = getattr(cause, "reason", None) or "HANDSHAKE_FAILURE"
        return f"ERR_SSL_{reason}", str(cause)
    if isinstance(cause, (asyncio.TimeoutError, TimeoutError)):
        return "ETIMEDOUT", str(cause) or "timed out"
    if isinstance(cause, OSError):
        number = cause.errno
        if number is None:
            # asyncio joins one error per address ("Multiple exceptions: [Errno 111] …"): the first names it.
            found = _ERRNO_IN_TEXT.search(str(cause))
            number = int(found.group(1)) if found else None
        return (errno.errorcode.get(number) if number is not None else None), str(cause)
    return None, f"{type(cause).__name__}: {cause}"


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc.rpartition("@")[2] or "(an invalid URL)"
    except ValueError:
        return "(an invalid URL)"


def describe_failure(code: Optional[str], message: str, url: str, close_code: int) -> Tuple[GatewayConnectError, str]:
    """The ``connect_failed`` error for a cause (``code``, ``message``) and ``short``, the cause in a
    few words (the close reason the chart records). URLs and messages never show a token."""
    host = _host(url)
    url = redact_tokens(url)
    message = redact_tokens(message)

    def make(short: str, text: str) -> Tuple[GatewayConnectError, str]:
        return GatewayConnectError("connect_failed", text, "wait_then_retry", close_code=close_code), short

    status = _HTTP_ANSWER.search(message)
    if status is not None:
        answer = status.group(1)
        return make(
            f"HTTP {answer}",
            f"{url} answered HTTP {answer} instead of upgrading to a WebSocket (101): the URL does not lead to a Lifeline gateway. "
            "Check the host, port and path. The client retries.",
        )
    if code == "ECONNREFUSED":
        return make(code, f"Nothing accepts connections at {host} (ECONNREFUSED): is the gateway running, and is the port right? The client retries.")
    if code in ("ENOTFOUND", "EAI_AGAIN"):
        return make(code, f"The host name in {url} does not resolve ({code}): check the URL's host. The client retries.")
    if code in ("ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET"):
        return make(code, f"{host} could not be reached ({code}): check the network and any proxy or firewall in between. The client retries.")
    if code is not None and _TLS_CODE.search(code):
        return make(code, f"The TLS handshake with {host} failed ({code}: {message}): check the certificate, or use ws:// if the gateway does not serve TLS. The client retries.")
    return make(code or message[:64], f"Could not connect to {url}: {message}. The client retries.")
