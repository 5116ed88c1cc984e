"""The socket actor as the chart drives it: a missed heartbeat makes the chart send ``terminate``,
and the socket is aborted without the closing handshake (a dead peer cannot answer one; waiting
would hold the next attempt back). The ports the chart drives are not public API. Against a real
``websockets`` server in the test that answers the handshake and then stays silent."""
from __future__ import annotations

import asyncio
import json
from typing import Any, List

import websockets
from scenario_kit import FAST
from support import bounded, until

from lifeline_client import GatewayClient

PORTS = ("open_socket", "close_socket", "terminate_socket", "flush_outbox", "start_heartbeat", "stop_heartbeat", "probe_liveness")


def test_the_chart_ports_are_not_public() -> None:
    public = [name for name in dir(GatewayClient) if not name.startswith("_")]
    assert [name for name in PORTS if name in public] == []


async def test_a_missed_heartbeat_aborts_the_socket_without_a_closing_handshake() -> None:
    closes: List[Any] = []
    done = asyncio.Event()

    async def silent_gateway(ws: Any, path: str = "") -> None:
        # Answers hello with a 100 ms heartbeat, then never sends or answers anything again.
        await ws.recv()
        await ws.send(json.dumps({
            "type": "hello_ok", "protocol": 2, "session_id": "s-1", "resumed": False, "cursor": 0,
            "features": {"methods": [], "events": [], "extensions": []},
            "policy": {"max_payload": 1 << 20, "heartbeat_ms": 100},
        }))
        try:
            while True:
                await ws.recv()  # the client's pings go unanswered
        except websockets.exceptions.ConnectionClosed as closed:
            # `rcvd` is the client's close frame: None when the socket was aborted.
            closes.append(None if closed.rcvd is None else closed.rcvd.code)
            done.set()

    server = await websockets.serve(silent_gateway, "127.0.0.1", 0)  # type: ignore[attr-defined]
    port = server.sockets[0].getsockname()[1]
    client = GatewayClient(f"ws://127.0.0.1:{port}", agent_id="demo", reconnect=FAST)
    states: List[str] = []
    client.on_state(states.append)
    try:
        await bounded("joined", client.connect(timeout=5))
        await until("the missed heartbeat", lambda: "reconnecting" in states, timeout=3.0)
        await bounded("the server sees the socket end", done.wait(), timeout=3.0)
        assert closes[0] is None, f"the client sent a close frame ({closes[0]}) to a peer presumed dead"
    finally:
        await client.disconnect()
        server.close()
        await server.wait_closed()
