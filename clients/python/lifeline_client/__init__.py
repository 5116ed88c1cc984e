"""Lifeline client for Python: a reconnecting, resuming asyncio client for Lifeline agent gateways.

The lifecycle runs from a table checked against the TypeScript chart (schema/client-chart.json);
the names mirror the TypeScript client in snake_case (see README.md)."""
from .backoff import Backoff, backoff_delay
from .client import GatewayClient
from .errors import GatewayConnectError
from .gateway_urls import GatewayUrl, UrlContext, UrlFunction
from .options import Token
from .outbox_store import FileOutboxStore, MemoryOutboxStore, OutboxStore
from .types import Checkpoint, ClientInfo, ClientState, CloseInfo, GapInfo, GatewayEvent, ResumeInfo, SendResult, SessionSnapshot

__all__ = [
    "Backoff",
    "Checkpoint",
    "FileOutboxStore",
    "MemoryOutboxStore",
    "OutboxStore",
    "ClientInfo",
    "ClientState",
    "CloseInfo",
    "GapInfo",
    "GatewayClient",
    "GatewayConnectError",
    "GatewayEvent",
    "GatewayUrl",
    "ResumeInfo",
    "SendResult",
    "SessionSnapshot",
    "Token",
    "UrlContext",
    "UrlFunction",
    "backoff_delay",
]
