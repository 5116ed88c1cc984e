"""The protocol's frames as ``TypedDict``s (``total=False`` holds the optional fields, since the
package supports Python 3.9), generated from schema/protocol.schema.json by
tests/generate_frames.py; tests/test_frames.py fails when this file is stale. Do not edit by hand."""
from __future__ import annotations

from typing import Any, List, Literal, TypedDict, Union


class _EventPayloadRequired(TypedDict):
    type: str


class EventPayload(_EventPayloadRequired, total=False):
    data: Any
    event_id: str
    timestamp: float
    source: str
    sequence: int


class Gap(TypedDict):
    expected: int
    received: int


class _PolicyRequired(TypedDict):
    max_payload: int
    heartbeat_ms: int


class Policy(_PolicyRequired, total=False):
    max_buffered_bytes: int
    max_queued_frames: int
    replay_window: int


class _FeaturesRequired(TypedDict):
    methods: List[str]
    events: List[str]


class Features(_FeaturesRequired, total=False):
    extensions: List[str]


class HealthProtocol(TypedDict):
    min: int
    max: int


class _HealthRequired(TypedDict):
    status: str


class Health(_HealthRequired, total=False):
    uptime_s: float
    connections: int
    sessions: int
    protocol: HealthProtocol
    draining: bool


class PresenceEntry(TypedDict):
    session_id: str
    agent_id: str
    connections: int


class HelloProtocol(TypedDict):
    min: int
    max: int


class _HelloFrameRequired(TypedDict):
    type: Literal["hello"]
    agent_id: str


class HelloFrame(_HelloFrameRequired, total=False):
    protocol_min: int
    protocol_max: int
    protocol: HelloProtocol
    capabilities: List[str]
    caps: List[str]
    session_id: str
    since: int
    epoch: str
    token: str


class _JoinFrameRequired(TypedDict):
    type: Literal["join"]
    agent_id: str


class JoinFrame(_JoinFrameRequired, total=False):
    min_version: int
    max_version: int
    session_id: str
    since: int
    epoch: str
    token: str


class _MessageFrameRequired(TypedDict):
    type: Literal["message"]
    content: Any


class MessageFrame(_MessageFrameRequired, total=False):
    id: str


class ResyncFrame(TypedDict):
    type: Literal["resync"]


class LeaveFrame(TypedDict):
    type: Literal["leave"]


class _PingFrameRequired(TypedDict):
    type: Literal["ping"]


class PingFrame(_PingFrameRequired, total=False):
    ts: float


class _PongFrameRequired(TypedDict):
    type: Literal["pong"]


class PongFrame(_PongFrameRequired, total=False):
    ts: float


class _HelloOkFrameRequired(TypedDict):
    type: Literal["hello_ok"]
    protocol: int
    features: Features
    policy: Policy
    session_id: str
    resumed: bool
    cursor: int


class HelloOkFrame(_HelloOkFrameRequired, total=False):
    epoch: str
    oldest_cursor: int
    resync_required: bool
    gap: Gap
    presence: List[PresenceEntry]
    health: Health
    server_min: int
    server_max: int


class _HelloErrorFrameRequired(TypedDict):
    type: Literal["hello_error"]
    code: str
    message: str
    next_step: str


class HelloErrorFrame(_HelloErrorFrameRequired, total=False):
    retry_after_seconds: float
    server_min: int
    server_max: int


class _JoinedFrameRequired(TypedDict):
    type: Literal["joined"]
    session_id: str
    cursor: int


class JoinedFrame(_JoinedFrameRequired, total=False):
    agent_id: str
    resumed: bool
    oldest_cursor: int
    resync_required: bool
    sequence: int
    protocol_version: int
    server_min_version: int
    server_max_version: int
    presence: List[Any]
    health: Any
    epoch: str
    gap: Gap
    policy: Policy


class _EventFrameRequired(TypedDict):
    type: Literal["event"]
    seq: int
    event: EventPayload


class EventFrame(_EventFrameRequired, total=False):
    epoch: str


class _ReplayFrameRequired(TypedDict):
    type: Literal["replay"]
    event: EventPayload


class ReplayFrame(_ReplayFrameRequired, total=False):
    seq: int
    epoch: str


class _CaughtUpFrameRequired(TypedDict):
    type: Literal["caught_up"]
    cursor: int


class CaughtUpFrame(_CaughtUpFrameRequired, total=False):
    epoch: str


class BatchFrame(TypedDict):
    type: Literal["batch"]
    frames: List[Union[EventFrame, ReplayFrame]]


class _SnapshotFrameRequired(TypedDict):
    type: Literal["snapshot"]
    state: Any


class SnapshotFrame(_SnapshotFrameRequired, total=False):
    cursor: int
    epoch: str


class _AckFrameRequired(TypedDict):
    type: Literal["ack"]
    id: str


class AckFrame(_AckFrameRequired, total=False):
    duplicate: bool


class _ErrorFrameRequired(TypedDict):
    type: Literal["error"]
    message: str


class ErrorFrame(_ErrorFrameRequired, total=False):
    code: str
    next_step: str
    retry_after_seconds: float
    id: str


class DrainingFrame(TypedDict):
    type: Literal["draining"]
    reconnect_after_ms: int


ClientFrame = Union[HelloFrame, JoinFrame, MessageFrame, ResyncFrame, LeaveFrame, PingFrame, PongFrame]


ServerFrame = Union[HelloOkFrame, HelloErrorFrame, JoinedFrame, EventFrame, ReplayFrame, CaughtUpFrame, BatchFrame, SnapshotFrame, AckFrame, ErrorFrame, DrainingFrame, PingFrame, PongFrame]
