"""A recording client for the scenarios: every state, gap, error and event it reports, in order."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

from lifeline_client import Backoff, GapInfo, GatewayClient, GatewayConnectError, GatewayEvent, GatewayUrl

FAST = Backoff(initial=0.05, max=0.3, min_uptime=5.0)
"""Quick retries, so a scenario is about the behaviour, not the wait."""


@dataclass
class Recording:
    client: GatewayClient
    states: List[str] = field(default_factory=list)
    gaps: List[GapInfo] = field(default_factory=list)
    errors: List[GatewayConnectError] = field(default_factory=list)
    events: List[GatewayEvent] = field(default_factory=list)
    joins: int = 0

    def seqs(self) -> List[Optional[int]]:
        return [e.seq for e in self.events]

    def codes(self) -> List[str]:
        return [e.code for e in self.errors]


def recorded(url: GatewayUrl, **options: Any) -> Recording:
    options.setdefault("reconnect", FAST)
    client = GatewayClient(url, agent_id=options.pop("agent_id", "demo"), **options)
    recording = Recording(client)

    def on_state(state: str) -> None:
        recording.states.append(state)
        if state == "joined":
            recording.joins += 1

    client.on_state(on_state)
    client.on_gap(recording.gaps.append)
    client.on_error(recording.errors.append)
    client.on_event(recording.events.append)
    return recording


def owned_tasks() -> List["asyncio.Task[Any]"]:
    """Tasks still running besides the test's own: the client must leave none behind."""
    current = asyncio.current_task()
    return [t for t in asyncio.all_tasks() if t is not current and not t.done()]


@asynccontextmanager
async def scene(harness: Any, setup: Optional[Dict[str, Any]] = None, **client_options: Any) -> AsyncIterator[Tuple[Any, Recording]]:
    """A fresh stage and a recording client on it; both are closed however the test ends."""
    from support import open_stage

    stage = await open_stage(harness, **(setup or {}))
    recording = recorded(stage.url, **client_options)
    try:
        yield stage, recording
    finally:
        await recording.client.disconnect()
        await stage.close()


async def joined_with_events(stage: Any, r: Recording, count: int) -> str:
    """Connect, have the gateway publish ``count`` events, wait for them; returns the session id."""
    from support import until

    await r.client.connect()
    session = r.client.info.session_id
    assert session is not None
    if count:
        await stage.publish(session, count)
        await until(f"{count} events", lambda: len(r.events) >= count)
    return session
