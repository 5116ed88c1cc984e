"""What the gateway's answer to the handshake (``hello_ok``, or a legacy ``joined``) settles for the
rest of a connection: its features and policy, presence and health, whether it acknowledges
messages and whether it offers resync."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional


@dataclass(frozen=True)
class GatewayTerms:
    """The terms of the current (or last) connection; the defaults hold before the first answer."""

    features: Optional[Mapping[str, Any]] = None
    policy: Optional[Mapping[str, Any]] = None
    presence: List[Any] = field(default_factory=list)
    health: Optional[Mapping[str, Any]] = None
    acks: bool = False
    resync: bool = True

    @property
    def max_payload(self) -> Optional[int]:
        """The gateway's ``policy.max_payload`` (UTF-8 bytes of a frame), None when not announced."""
        policy = self.policy
        limit = policy.get("max_payload") if isinstance(policy, Mapping) else None
        return limit if isinstance(limit, int) else None


def terms_of(frame: Mapping[str, Any]) -> GatewayTerms:
    """The terms a handshake answer sets; a legacy ``joined`` announces no features."""
    hello_ok = frame["type"] == "hello_ok"
    features = frame.get("features") if hello_ok else None
    extensions = (features or {}).get("extensions") or []
    return GatewayTerms(
        features=features,
        policy=frame.get("policy"),
        presence=(frame.get("presence") or []) if hello_ok else [],
        health=frame.get("health") if hello_ok else None,
        acks="ack" in extensions,
        # Legacy gateways list no methods; try, since their join path may answer resync.
        resync=features is None or "resync" in (features.get("methods") or []) or "snapshot" in extensions,
    )
