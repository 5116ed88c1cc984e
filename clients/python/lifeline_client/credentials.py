"""Where a token travels, and how it is kept out of every message. Mirrors
src/protocol/credentials.ts: the token always goes in ``hello.token``, and as ``?token=`` too when
the URL's path ends in ``/ws`` (PraisonAI's gateway reads it only there); a ``token`` query value
and a URL's password read ``[redacted]`` in every message (tests/vectors/gateway-urls.json holds
both clients to the same URLs, hints and redactions)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Optional
from urllib.parse import parse_qs, quote, urlsplit

REDACTED = "[redacted]"

_TOKEN_VALUE = re.compile(r"([?&]token=)(?:[^&#\s\"'<>.,;:)]|[.,;:)](?!\s|$))*", re.IGNORECASE)
"""A ``token`` query value; punctuation that ends a sentence (``?token=abc: refused``) is left to it."""
_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/?#@\s:]*:)[^/?#@\s]*@", re.IGNORECASE)
_WS_PATH = re.compile(r"(^|/)ws/?$")


def has_url_token(url: str) -> bool:
    """Whether ``url`` has a ``token`` query parameter."""
    query = url.split("#", 1)[0].partition("?")[2]
    return "token" in parse_qs(query, keep_blank_values=True)


def with_url_token(url: str, token: Optional[str]) -> str:
    """``url`` with ``token=<token>`` appended to its query (percent-encoded as JavaScript's
    ``encodeURIComponent`` does), unless it has a ``token`` parameter already."""
    if token is None or has_url_token(url):
        return url
    base, hash_mark, fragment = url.partition("#")
    joiner = "?" if "?" not in base else ("" if base.endswith(("?", "&")) else "&")
    return f"{base}{joiner}token={quote(token, safe=_URI_COMPONENT_SAFE)}{hash_mark}{fragment}"


_URI_COMPONENT_SAFE = "!*'()"
"""What ``encodeURIComponent`` leaves alone besides letters, digits and ``-_.~``."""


def reads_url_token(url: str) -> bool:
    """Whether the URL's path ends in the segment ``ws`` (PraisonAI's endpoint, perhaps behind a prefix)."""
    try:
        return _WS_PATH.search(urlsplit(url).path) is not None
    except ValueError:
        return False


@dataclass(frozen=True)
class TokenPlacement:
    """Where one attempt's token went (the TypeScript ``TokenPlacement``)."""

    url: str
    """The URL to open."""
    in_hello: bool
    """A token went in ``hello.token``."""
    in_url: Literal["added", "given", "none"]
    """``added``: this client put it in ``?token=``; ``given``: the URL came with its own."""


def place_token(url: str, token: Optional[str]) -> TokenPlacement:
    """The client's rule: always ``hello.token``, and ``?token=`` too on a ``/ws`` URL."""
    in_hello = token is not None
    if has_url_token(url):
        return TokenPlacement(url, in_hello, "given")
    if in_hello and reads_url_token(url):
        return TokenPlacement(with_url_token(url, token), True, "added")
    return TokenPlacement(url, in_hello, "none")


def auth_required_hint(placement: TokenPlacement) -> str:
    """What a client says after ``auth_required``: where it sent a token, and what to do next."""
    if placement.in_hello and placement.in_url != "none":
        return "This client sent a token in hello.token and as ?token= on the URL, so the gateway has it and refused it: check the token."
    if placement.in_hello:
        return (
            "This client sent the token in hello.token only (the URL's path does not end in /ws, so not as ?token=). "
            "A gateway that reads it only from the URL, as PraisonAI's does, needs ?token=: connect to its /ws path, or add ?token= to the URL."
        )
    if placement.in_url == "given":
        return "This client sent no hello.token; the URL's own ?token= was refused or not read: check it, or pass the token option."
    return "This client sent no token: pass the token option (sent in hello.token, and as ?token= too when the URL's path ends in /ws, as PraisonAI's does)."


def redact_tokens(text: str) -> str:
    """Text safe to show: every ``token`` query value and any URL password read ``[redacted]``."""
    return _PASSWORD.sub(rf"\g<1>{REDACTED}@", _TOKEN_VALUE.sub(rf"\g<1>{REDACTED}", text))


def scrub_secret(text: str, secret: Optional[str]) -> str:
    """Text safe to show: every occurrence of ``secret`` (raw and percent-encoded) is replaced."""
    if not secret:
        return text
    out = text.replace(secret, REDACTED)
    encoded = quote(secret, safe=_URI_COMPONENT_SAFE)
    return out.replace(encoded, REDACTED) if encoded != secret else out
