"""First contact with a real gateway: connect, receive, send, disconnect."""
from __future__ import annotations

import asyncio
from typing import List

from support import bounded, open_stage, until

from lifeline_client import Backoff, GatewayClient, GatewayEvent


async def test_connect_receive_send_disconnect(harness) -> None:  # type: ignore[no-untyped-def]
    stage = await open_stage(harness)
    try:
        client = GatewayClient(stage.url, agent_id="demo", reconnect=Backoff(initial=0.05, max=0.5))
        states: List[str] = []
        client.on_state(states.append)
        async with client:
            assert client.state == "joined"
            session = client.info.session_id
            assert session is not None
            await stage.publish(session, 3)
            seen: List[GatewayEvent] = []
            async def take() -> None:
                async for event in client.events():
                    seen.append(event)
                    if len(seen) == 3:
                        return
            await bounded("three events", take())
            assert [e.seq for e in seen] == [1, 2, 3]
            ack = await bounded("the ack", client.send("hello"))
            assert ack.duplicate is False and ack.id
        assert client.state == "disconnected"
        assert states[:3] == ["connecting", "negotiating", "joined"]
    finally:
        await stage.close()
