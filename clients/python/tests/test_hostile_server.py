"""The client against servers it should not trust, scripted with a real ``websockets`` server in
the test: a link whose frame limit is smaller than the gateway announces (it closes 1009), and
handshake answers that do not follow the protocol. Mirrors test/client/poison.test.ts and
test/client/hostile-server.test.ts."""
from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Dict, List, Optional

import pytest
import websockets
from scenario_kit import FAST, owned_tasks
from support import bounded, until

from lifeline_client import Backoff, GapInfo, GatewayClient, GatewayConnectError, GatewayEvent
from lifeline_client.protocol import MAX_SERVER_FRAME_BYTES, MAX_SERVER_FRAME_DEPTH

ANNOUNCED_MAX_PAYLOAD = 1 << 20


def hello_ok(connection: int, **fields: Any) -> str:
    """A valid ``hello_ok`` announcing max_payload 1 MiB; ``fields`` override (None drops one)."""
    frame: Dict[str, Any] = {
        "type": "hello_ok",
        "protocol": 2,
        "features": {"methods": [], "events": [], "extensions": ["ack", "caught_up"]},
        "policy": {"max_payload": ANNOUNCED_MAX_PAYLOAD, "heartbeat_ms": 0},
        "session_id": "s-1",
        "resumed": connection > 1,
        "cursor": 0,
    }
    frame.update(fields)
    return json.dumps({k: v for k, v in frame.items() if v is not None})


@dataclass
class Scripted:
    """A scripted server: its URL, how many connections it took, and each message frame it read."""

    url: str = ""
    connections: int = 0
    received: List[Dict[str, Any]] = field(default_factory=list)


@asynccontextmanager
async def scripted(
    answer: Callable[[int], List[str]],
    max_size: Optional[int] = None,
    close_code: Optional[int] = None,
    on_message: Optional[Callable[[Dict[str, Any], int], str]] = None,
    close_reason: str = "at once",
) -> AsyncIterator[Scripted]:
    """A ``websockets`` server on 127.0.0.1 that answers every ``hello`` with ``answer(connection)``
    (then closes with ``close_code``, if given) and every message with ``on_message(frame, copies
    of its id so far)`` (default: an ack). With ``max_size``, ``websockets`` closes 1009 on any
    bigger frame, as a proxy with a small frame limit in front of a gateway would."""
    state = Scripted()

    async def handler(ws: Any) -> None:
        state.connections += 1
        connection = state.connections
        try:
            async for text in ws:
                frame = json.loads(text)
                if frame.get("type") == "hello":
                    for reply in answer(connection):
                        await ws.send(reply)
                    if close_code is not None:
                        await ws.close(close_code, close_reason)
                elif frame.get("type") == "message":
                    state.received.append({"connection": connection, "bytes": len(text.encode()), "id": frame["id"]})
                    copies = sum(1 for m in state.received if m["id"] == frame["id"])
                    await ws.send(on_message(frame, copies) if on_message else json.dumps({"type": "ack", "id": frame["id"]}))
        except websockets.exceptions.ConnectionClosed:
            pass  # an oversized frame ends here, after websockets closed 1009

    server = await websockets.serve(handler, "127.0.0.1", 0, max_size=max_size)  # type: ignore[attr-defined]
    try:
        port = next(iter(server.sockets)).getsockname()[1]
        state.url = f"ws://127.0.0.1:{port}"
        yield state
    finally:
        server.close()
        await server.wait_closed()


async def test_a_message_the_link_closed_1009_on_is_dropped_not_resent_after_every_rejoin() -> None:
    def joined(connection: int) -> List[str]:
        return [hello_ok(connection), json.dumps({"type": "caught_up", "cursor": 0})]

    async with scripted(joined, max_size=2000) as server:
        client = GatewayClient(server.url, agent_id="demo", reconnect=FAST)
        try:
            await bounded("the join", client.connect())
            with pytest.raises(GatewayConnectError) as refused:
                await bounded("the refusal", client.send("x" * 3000))
            assert refused.value.code == "payload_too_large"
            assert refused.value.next_step == "do_not_retry"
            assert refused.value.close_code == 1009
            assert "message too big" in refused.value.message
            await until("the rejoin", lambda: client.state == "joined" and server.connections == 2)
            # Messages behind it go through; the big one was never sent again.
            after = await bounded("the ack", client.send("after"))
            assert after.acknowledged
            # The client learned the limit: as big a message is refused at once, with no new connection.
            with pytest.raises(GatewayConnectError) as local:
                await bounded("the local refusal", client.send("y" * 3000), timeout=1.0)
            assert local.value.code == "payload_too_large"
            smaller = await bounded("a smaller ack", client.send("z" * 1500))
            assert smaller.acknowledged
            assert server.connections == 2
            assert all(m["bytes"] < 2000 for m in server.received), server.received
        finally:
            await client.disconnect()
    assert owned_tasks() == []


async def test_a_message_told_message_in_flight_is_kept_and_resent_under_its_id() -> None:
    """The gateway is still applying an earlier copy: the client keeps the message and resends
    it after ``retry_after_seconds`` on the same connection, until it is acknowledged."""
    def joined(connection: int) -> List[str]:
        return [hello_ok(connection), json.dumps({"type": "caught_up", "cursor": 0})]

    def in_flight_twice(frame: Dict[str, Any], copies: int) -> str:
        if copies <= 2:
            return json.dumps({"type": "error", "code": "message_in_flight", "id": frame["id"], "message": "being applied", "next_step": "wait_then_retry", "retry_after_seconds": 0.05})
        return json.dumps({"type": "ack", "id": frame["id"]})

    async with scripted(joined, on_message=in_flight_twice) as server:
        client = GatewayClient(server.url, agent_id="demo", reconnect=FAST)
        errors: List[str] = []
        client.on_error(lambda e: errors.append(e.code))
        try:
            await bounded("the join", client.connect())
            result = await bounded("the ack", client.send("hi"), timeout=3.0)
            assert result.acknowledged and not result.duplicate
            assert [m["id"] for m in server.received] == [result.id] * 3
            assert {m["connection"] for m in server.received} == {1}
            assert errors == []
        finally:
            await client.disconnect()
    assert owned_tasks() == []


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(hello_ok(1, policy=None), id="a hello_ok without policy"),
        pytest.param(hello_ok(1, cursor=-1), id="a hello_ok with a negative cursor"),
        pytest.param(json.dumps({"type": "hello_error", "code": "rate_limited"}), id="a hello_error without a message"),
        pytest.param(json.dumps({"type": "joined", "cursor": 0}), id="a joined without a session_id"),
    ],
)
async def test_a_handshake_answer_that_does_not_decode_fails_the_attempt_at_once(answer: str) -> None:
    async with scripted(lambda connection: [answer]) as server:
        # A long handshake timeout and a long, fixed backoff: reaching `reconnecting` quickly with
        # one attempt counted can only come from the answer itself.
        client = GatewayClient(server.url, agent_id="demo", handshake_timeout=20.0, reconnect=Backoff(initial=5.0, max=5.0, jitter=0.0))
        errors: List[GatewayConnectError] = []
        client.on_error(errors.append)
        connecting = asyncio.ensure_future(client.connect())
        try:
            await until("the failed attempt", lambda: client.state == "reconnecting", timeout=2.0)
            assert errors[0].code == "bad_server_frame"
            assert errors[0].next_step == "wait_then_retry"
            assert "does not follow the protocol" in errors[0].message
            assert client.info.protocol is None
            assert client.info.attempt == 1
            assert server.connections == 1
        finally:
            await client.disconnect()
            await asyncio.gather(connecting, return_exceptions=True)
    assert owned_tasks() == []


@pytest.mark.parametrize("code", [1001, 4002, 4040])
async def test_a_gateway_that_accepts_and_closes_at_once_gets_the_normal_backoff(code: int) -> None:
    """Issue #18: 1001, 4002 and 4040 mean "reconnect at once", but only the first since a stable join."""

    def joined(connection: int) -> List[str]:
        return [hello_ok(connection), json.dumps({"type": "caught_up", "cursor": 0})]

    async with scripted(joined, close_code=code) as server:
        # No jitter: a prompt 30 ms, then 30, 60, 120, 240, 480 ms.
        client = GatewayClient(server.url, agent_id="demo", reconnect=Backoff(initial=0.03, max=10.0, jitter=0.0, min_uptime=5.0))
        loop = asyncio.get_running_loop()
        started = loop.time()
        connecting = asyncio.ensure_future(client.connect())
        try:
            await until("seven connections", lambda: server.connections >= 7, timeout=5.0)
            # Without escalation the seven come within a few hundred ms (27-45 connects in 5 s were seen).
            assert loop.time() - started > 0.9
            assert client.info.attempt >= 5
            assert client.info.last_close is not None and client.info.last_close.code == code
        finally:
            await client.disconnect()
            await asyncio.gather(connecting, return_exceptions=True)
    assert owned_tasks() == []


async def test_a_handshake_timeout_is_reported_to_on_error_as_connect_failed() -> None:
    """A gateway that opens the socket and never answers ``hello``: each timed-out attempt is
    reported, as the TypeScript client reports ``connect_failed``."""
    async with scripted(lambda connection: []) as server:
        client = GatewayClient(server.url, agent_id="demo", handshake_timeout=0.2, reconnect=Backoff(initial=0.05, max=0.05, jitter=0.0))
        errors: List[GatewayConnectError] = []
        client.on_error(errors.append)
        connecting = asyncio.ensure_future(client.connect())
        try:
            await until("two timed-out attempts", lambda: len(errors) >= 2, timeout=3.0)
            assert [e.code for e in errors[:2]] == ["connect_failed", "connect_failed"]
            assert errors[0].close_code == 4008
            assert errors[0].next_step == "wait_then_retry"
            assert "handshake_timeout (0.2 s)" in errors[0].message
            assert client.info.last_error is errors[-1]
        finally:
            await client.disconnect()
            await asyncio.gather(connecting, return_exceptions=True)
    assert owned_tasks() == []


async def test_a_gateway_close_4008_is_a_failed_attempt_not_the_clients_own_handshake_timeout() -> None:
    """The gateway's own handshake timeout (close 4008 ``handshake_timeout``) is counted as a failed
    attempt, but only the chart's timer running out is reported as "No answer within
    handshake_timeout" (the client used to compare the close's reason string)."""
    async with scripted(lambda connection: [], close_code=4008, close_reason="handshake_timeout") as server:
        client = GatewayClient(server.url, agent_id="demo", handshake_timeout=5.0, reconnect=Backoff(initial=0.01, max=0.02, jitter=0.0))
        errors: List[GatewayConnectError] = []
        client.on_error(errors.append)
        try:
            with pytest.raises(GatewayConnectError) as gave_up:
                await bounded("connect() to give up", client.connect(max_failures=2))
            assert gave_up.value.code == "connect_timeout"
            assert "2 failed attempts" in gave_up.value.message
            assert client.info.last_close is not None and (client.info.last_close.code, client.info.last_close.reason) == (4008, "handshake_timeout")
            assert [e.message for e in errors if "No answer within" in e.message] == []
        finally:
            await client.disconnect()
    assert owned_tasks() == []


def nested(depth: int) -> str:
    """JSON objects nested ``depth`` deep: ``{"a":{"a":{}}}`` is 3."""
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


def deep_event(seq: int, depth: int, kind: str = "event") -> str:
    return f'{{"type":"{kind}","seq":{seq},"event":{{"type":"deep","data":{nested(depth)}}}}}'


def plain_event(seq: int, kind: str = "event") -> str:
    return json.dumps({"type": kind, "seq": seq, "event": {"type": "plain", "data": {"seq": seq}}})


def caught_up(cursor: int) -> str:
    return json.dumps({"type": "caught_up", "cursor": cursor})


async def test_a_frame_nested_deeper_than_the_limit_is_reported_once_skipped_with_a_gap_and_the_link_stays() -> None:
    """It used to raise RecursionError and drop the connection."""

    def frames(connection: int) -> List[str]:
        return [hello_ok(connection), caught_up(0), plain_event(1), deep_event(2, 3000), "[" * 3000 + "]" * 3000, plain_event(3)]

    async with scripted(frames) as server:
        client = GatewayClient(server.url, agent_id="demo", reconnect=FAST)
        errors: List[GatewayConnectError] = []
        gaps: List[GapInfo] = []
        seqs: List[Optional[int]] = []
        client.on_error(errors.append)
        client.on_gap(gaps.append)
        client.on_event(lambda event: seqs.append(event.seq))
        try:
            await bounded("the join", client.connect())
            await until("events 1 and 3", lambda: len(seqs) == 2)
            assert seqs == [1, 3]
            assert [(g.expected, g.received, g.reason) for g in gaps] == [(2, 3, "live")]
            assert [e.code for e in errors] == ["bad_server_frame", "bad_server_frame"]
            assert f"deeper than {MAX_SERVER_FRAME_DEPTH} levels" in errors[0].message
            assert client.state == "joined"
            assert server.connections == 1
        finally:
            await client.disconnect()
    assert owned_tasks() == []


async def test_a_legal_event_nested_1500_deep_is_delivered_with_its_batch_on_one_connection() -> None:
    """It was never delivered: each resume replayed its v2 batch, which took its neighbours down too."""
    members = [deep_event(5, 1500, "replay") if seq == 5 else plain_event(seq, "replay") for seq in range(1, 11)]

    def frames(connection: int) -> List[str]:
        return [hello_ok(connection), '{"type":"batch","frames":[' + ",".join(members) + "]}", caught_up(10)]

    async with scripted(frames) as server:
        client = GatewayClient(server.url, agent_id="demo", reconnect=FAST)
        errors: List[GatewayConnectError] = []
        events: List[GatewayEvent] = []
        client.on_error(errors.append)
        client.on_event(events.append)
        try:
            await bounded("the join", client.connect())
            await until("ten events", lambda: len(events) == 10)
            assert [e.seq for e in events] == list(range(1, 11))
            depth, node = 0, events[4].data
            while isinstance(node, dict):
                depth, node = depth + 1, node.get("a")
            assert depth == 1500
            assert errors == []
            assert server.connections == 1
        finally:
            await client.disconnect()
    assert owned_tasks() == []


async def test_a_frame_over_the_shared_size_limit_is_refused_at_its_header_without_blaming_the_message_in_flight() -> None:
    giant = '{"type":"event","seq":1,"event":{"type":"big","data":"' + "x" * MAX_SERVER_FRAME_BYTES + '"}}'

    def joined(connection: int) -> List[str]:
        return [hello_ok(connection), caught_up(0)]

    def answer(frame: Dict[str, Any], copies: int) -> str:
        # The first copy is answered with a frame past the limit; the resend after the rejoin is acked.
        return giant if copies == 1 else json.dumps({"type": "ack", "id": frame["id"]})

    async with scripted(joined, on_message=answer) as server:
        client = GatewayClient(server.url, agent_id="demo", reconnect=Backoff(initial=0.1, max=0.1, jitter=0.0))
        errors: List[GatewayConnectError] = []
        client.on_error(errors.append)
        try:
            await bounded("the join", client.connect())
            sent = await bounded("the ack after the rejoin", client.send("hello"), timeout=5.0)
            assert sent.acknowledged
            assert server.connections == 2
            refused = [e for e in errors if e.code == "bad_server_frame"]
            assert len(refused) == 1
            assert refused[0].close_code == 4000 and refused[0].next_step == "wait_then_retry"
            assert f"over {MAX_SERVER_FRAME_BYTES} bytes" in refused[0].message
            assert "payload_too_large" not in [e.code for e in errors]
            assert client.info.last_close is not None and (client.info.last_close.code, client.info.last_close.reason) == (4000, "frame_too_large")
        finally:
            await client.disconnect()
    assert owned_tasks() == []
