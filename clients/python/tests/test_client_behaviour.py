"""Client behaviours beyond the stories, against a real gateway: exactly-once sends across drops,
cancellation safety, the bounded events queue, the size check before send, isolated listeners,
the token function, and refusals as typed errors."""
from __future__ import annotations

import asyncio
import math
import random
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, List, Optional, Tuple

import pytest
from scenario_kit import FAST, owned_tasks, recorded
from support import bounded, open_stage, until

from lifeline_client import Backoff, GatewayClient, GatewayConnectError, GatewayEvent


@asynccontextmanager
async def joined_client(harness: Any, max_buffered_events: int) -> AsyncIterator[Tuple[Any, GatewayClient, List[GatewayConnectError]]]:
    """A fresh stage and a joined client with a small events bound, its errors recorded (no
    ``on_event``, which would change what the early buffer keeps); both closed however it ends."""
    stage = await open_stage(harness, demoAgent=False)
    client = GatewayClient(stage.url, agent_id="demo", reconnect=FAST, max_buffered_events=max_buffered_events)
    errors: List[GatewayConnectError] = []
    client.on_error(errors.append)
    try:
        await client.connect()
        yield stage, client, errors
    finally:
        await client.disconnect()
        await stage.close()


async def test_sends_are_applied_exactly_once_across_drops(harness) -> None:  # type: ignore[no-untyped-def]
    stage = await open_stage(harness, demoAgent=False)
    r = recorded(stage.url)
    rng = random.Random(7)
    try:
        await r.client.connect()
        sends = []
        for n in range(40):
            sends.append(asyncio.ensure_future(r.client.send({"n": n})))
            if rng.random() < 0.15:
                await stage.drop()
            await asyncio.sleep(rng.random() * 0.01)
        acks = await bounded("every ack", asyncio.gather(*sends), timeout=10.0)
        assert len({a.id for a in acks}) == 40
        stats = await stage.stats()
        applied = [m["n"] for m in stats["messages"]]
        assert sorted(applied) == list(range(40)), "each message applied exactly once"
        assert r.joins >= 2, "the drops really happened"
    finally:
        await r.client.disconnect()
        await stage.close()


async def test_cancelling_the_events_task_leaves_the_client_usable(harness) -> None:  # type: ignore[no-untyped-def]
    stage = await open_stage(harness)
    client = GatewayClient(stage.url, agent_id="demo", reconnect=FAST)
    try:
        await client.connect()
        seen: List[GatewayEvent] = []

        async def consume() -> None:
            async for event in client.events():
                seen.append(event)

        task = asyncio.ensure_future(consume())
        await stage.publish(client.info.session_id, 2)
        await until("2 events", lambda: len(seen) >= 2)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        # A new iterator after the cancelled one: the client is still delivering.
        stream = client.events()
        await stage.publish(client.info.session_id, 1)
        again: List[GatewayEvent] = [await bounded("an event on a new iterator", stream.__anext__())]
        assert again[0].seq is not None and again[0].seq >= 3
    finally:
        await client.disconnect()
        await stage.close()
    assert owned_tasks() == []


async def test_disconnect_mid_handshake_leaves_no_socket_and_no_task(harness) -> None:  # type: ignore[no-untyped-def]
    stage = await open_stage(harness)
    await stage.stall()  # TCP connects, the upgrade never completes
    client = GatewayClient(stage.url, agent_id="demo", reconnect=FAST)
    connecting = asyncio.ensure_future(client.connect())
    try:
        await until("the attempt to start", lambda: client.state == "connecting")

        async def proxy_connections() -> int:
            return int((await stage.stats())["connections"])

        for _ in range(100):
            if await proxy_connections() >= 1:
                break
            await asyncio.sleep(0.02)
        assert await proxy_connections() == 1, "the socket reached the proxy and hangs in the upgrade"
        await bounded("disconnect", client.disconnect())
        with pytest.raises(GatewayConnectError) as closed:
            await bounded("connect() to settle", connecting)
        assert closed.value.code == "client_closed"
        assert owned_tasks() == []
        await stage.resume()

        for _ in range(100):
            if await proxy_connections() == 0:
                break
            await asyncio.sleep(0.02)
        assert await proxy_connections() == 0, "the socket was left open"
    finally:
        await client.disconnect()
        await stage.close()


async def test_a_slow_consumer_is_bounded_and_loses_nothing(harness) -> None:  # type: ignore[no-untyped-def]
    async with joined_client(harness, 8) as (stage, client, errors):
        stream = client.events()
        await stage.publish(client.info.session_id, 30)
        await until("the overflow signal", lambda: any(e.code == "consumer_overflow" for e in errors))
        assert client.info.state_path == "reconnecting.backpressure"
        assert client.info.attempt == 0, "a pause for the reader is not a failure"
        got: List[int] = []

        async def drain() -> None:
            async for event in stream:
                assert event.seq is not None
                got.append(event.seq)
                await asyncio.sleep(0.002)  # a slow consumer
                if len(got) == 30:
                    return

        await bounded("all 30 events", drain(), timeout=10.0)
        assert got == list(range(1, 31)), "in order, none lost, none twice"


async def test_a_message_over_max_payload_is_refused_before_sending(harness) -> None:  # type: ignore[no-untyped-def]
    stage = await open_stage(harness, demoAgent=False)
    client = GatewayClient(stage.url, agent_id="demo", reconnect=FAST)
    try:
        await client.connect()
        limit = client.info.policy["max_payload"]  # type: ignore[index]
        with pytest.raises(GatewayConnectError) as refused:
            await client.send("x" * (limit + 1))
        assert refused.value.code == "payload_too_large"
        with pytest.raises(GatewayConnectError) as invalid:
            await client.send({"not json": {1, 2}})
        assert invalid.value.code == "invalid_message"
        ack = await bounded("a normal send after it", client.send("fine"))
        assert ack.duplicate is False
        assert client.state == "joined"
    finally:
        await client.disconnect()
        await stage.close()


async def test_a_raising_listener_breaks_nothing(harness) -> None:  # type: ignore[no-untyped-def]
    stage = await open_stage(harness)
    client = GatewayClient(stage.url, agent_id="demo", reconnect=FAST)
    errors: List[GatewayConnectError] = []
    heard: List[int] = []

    def bad(event: GatewayEvent) -> None:
        raise RuntimeError("listener bug")

    client.on_error(errors.append)
    client.on_event(bad)
    client.on_event(lambda e: heard.append(e.seq or 0))
    unsubscribe = client.on_state(lambda s: 1 / 0)
    try:
        await client.connect()
        unsubscribe()
        await stage.publish(client.info.session_id, 3)
        await until("3 events at the good listener", lambda: len(heard) >= 3)
        assert heard == [1, 2, 3]
        assert any(e.code == "listener_error" for e in errors)
        assert client.listener_errors >= 3 + 3  # three state changes and three events
        assert client.state == "joined"
    finally:
        await client.disconnect()
        await stage.close()


async def test_an_async_listener_runs_as_an_owned_task_and_its_failure_is_reported(harness) -> None:  # type: ignore[no-untyped-def]
    """A coroutine function as a listener: run as a task the client owns, a raise reported as
    ``listener_error`` (never "Task exception was never retrieved"), cancelled by disconnect()."""
    stage = await open_stage(harness)
    client = GatewayClient(stage.url, agent_id="demo", reconnect=FAST)
    errors: List[GatewayConnectError] = []
    started = asyncio.Event()
    hold = asyncio.Event()
    cancelled: List[bool] = []

    async def fails(state: str) -> None:
        await asyncio.sleep(0)
        if state == "joined":
            raise RuntimeError("async listener bug")

    async def waits(state: str) -> None:
        if state != "joined":
            return
        started.set()
        try:
            await hold.wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    client.on_error(errors.append)
    client.on_state(fails)
    client.on_state(waits)
    try:
        await client.connect()
        await until("the listener_error", lambda: [e for e in errors if e.code == "listener_error"])
        error = next(e for e in errors if e.code == "listener_error")
        assert isinstance(error.__cause__, RuntimeError) and str(error.__cause__) == "async listener bug"
        assert client.listener_errors == 1
        await bounded("the waiting listener to start", started.wait())
    finally:
        await client.disconnect()
        await stage.close()
    assert cancelled == [True], "disconnect() cancels a listener task still running"
    assert owned_tasks() == []


async def test_the_token_function_is_called_before_each_attempt(harness) -> None:  # type: ignore[no-untyped-def]
    stage = await open_stage(harness)
    calls: List[int] = []

    async def token() -> str:
        calls.append(len(calls) + 1)
        return "secret"  # the gateway binds a session to its token, so a resume must bring the same

    r = recorded(stage.url, token=token)
    try:
        await r.client.connect()
        assert calls == [1]
        await stage.drop()
        await until("the rejoin", lambda: r.joins >= 2)
        assert calls == [1, 2]
    finally:
        await r.client.disconnect()
        await stage.close()


async def test_a_failing_token_function_is_a_counted_failure_then_retried(harness) -> None:  # type: ignore[no-untyped-def]
    stage = await open_stage(harness)
    calls: List[int] = []

    def token() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("identity provider down")
        return "secret"

    r = recorded(stage.url, token=token)
    try:
        await bounded("the join on the second attempt", r.client.connect())
        assert r.codes()[0] == "token_unavailable"
        assert isinstance(r.errors[0].__cause__, RuntimeError)
        assert len(calls) == 2
    finally:
        await r.client.disconnect()
        await stage.close()


async def test_nothing_listening_reports_the_cause_and_gives_up_after_max_attempts() -> None:
    client = GatewayClient("ws://127.0.0.1:9", agent_id="demo", reconnect=Backoff(initial=0.01, max=0.02, max_attempts=2))
    errors: List[GatewayConnectError] = []
    client.on_error(errors.append)
    with pytest.raises(GatewayConnectError) as stopped:
        await bounded("connect() to give up", client.connect())
    assert stopped.value.code == "retries_exhausted"
    assert errors[0].code == "connect_failed" and isinstance(errors[0].__cause__, OSError)
    assert "Nothing accepts connections at 127.0.0.1:9 (ECONNREFUSED)" in errors[0].message, errors[0].message
    assert isinstance(client.info.last_error, OSError)
    assert client.state == "disconnected"
    assert owned_tasks() == []


async def test_connect_has_a_deadline_that_names_the_cause_and_the_client_keeps_trying() -> None:
    """As the TypeScript ``connect()``: ``connect_timeout`` after ``connect_timeout`` seconds (or
    ``max_failures``), naming the last cause; the client itself keeps trying until disconnect()."""
    client = GatewayClient("ws://127.0.0.1:9", agent_id="demo", reconnect=Backoff(initial=0.01, max=0.05), connect_timeout=0.3)
    try:
        with pytest.raises(GatewayConnectError) as gave_up:
            await bounded("connect() to give up", client.connect(), timeout=3.0)
        assert gave_up.value.code == "connect_timeout" and gave_up.value.next_step == "wait_then_retry"
        assert "ECONNREFUSED" in gave_up.value.message and "keeps trying until disconnect()" in gave_up.value.message
        assert client.state in ("connecting", "reconnecting")
        with pytest.raises(GatewayConnectError) as budget:
            await bounded("connect(max_failures=2) to give up", client.connect(timeout=math.inf, max_failures=2), timeout=3.0)
        assert budget.value.code == "connect_timeout" and "and 2 failed attempts" in budget.value.message
    finally:
        await client.disconnect()
    assert owned_tasks() == []


async def test_a_plain_http_server_gets_the_hint_that_the_url_is_not_a_gateway() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return  # the client went away first
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = GatewayClient(f"ws://127.0.0.1:{port}/", agent_id="demo", reconnect=Backoff(initial=0.01, max=0.05))
    errors: List[GatewayConnectError] = []
    client.on_error(errors.append)
    attempt = asyncio.ensure_future(client.connect(timeout=math.inf))
    try:
        await until("the first failure", lambda: errors)
        assert errors[0].code == "connect_failed"
        assert "answered HTTP 200 instead of upgrading to a WebSocket (101): the URL does not lead to a Lifeline gateway" in errors[0].message
        assert client.info.last_close is not None and client.info.last_close.reason == "HTTP 200"
    finally:
        await client.disconnect()
        await asyncio.gather(attempt, return_exceptions=True)
        server.close()
        await server.wait_closed()


def test_bad_options_are_refused_up_front() -> None:
    with pytest.raises(GatewayConnectError) as bad:
        GatewayClient("ftp://x", agent_id="demo")
    assert bad.value.code == "invalid_options"
    assert GatewayClient("http://x/ws", agent_id="demo").url == "ws://x/ws"
    assert GatewayClient("HTTPS://x", agent_id="demo").url == "wss://x"
    with pytest.raises(GatewayConnectError):
        GatewayClient("ws://x", agent_id="")
    with pytest.raises(GatewayConnectError):
        GatewayClient("ws://x", agent_id="a", reconnect=Backoff(jitter=2))
    # PraisonAI's marker: a gateway in auto dialect would answer in PraisonAI's frames.
    with pytest.raises(GatewayConnectError) as marker:
        GatewayClient("ws://x", agent_id="a", capabilities=("ack", "streaming"))
    assert marker.value.code == "invalid_options" and "streaming" in str(marker.value)


async def test_a_dropped_client_probes_without_counting_while_its_backoff_runs_on(harness) -> None:  # type: ignore[no-untyped-def]
    """The probe window: after a joined connection drops, probes within ``initial`` for
    ``probe_window``, none counted; after it, the rest of the cut-short step, then whole steps."""
    stage = await open_stage(harness)
    r = recorded(stage.url, reconnect=Backoff(initial=0.1, max=5.0, probe_window=0.5, jitter=0.0))
    planned: List[Tuple[int, Optional[float], str]] = []

    def on_state(state: str) -> None:
        if state == "reconnecting":
            info = r.client.info
            planned.append((info.attempt, info.retry_in, info.outage))

    r.client.on_state(on_state)
    try:
        await r.client.connect()
        await stage.refuse(True)
        await stage.drop()
        await until("a whole step after the window", lambda: sum(1 for p in planned if p[2] == "young") >= 2, timeout=3.0)
        probing = [p for p in planned if p[2] == "probing"]
        young = [p for p in planned if p[2] == "young"]
        # Jitter 0: the drop waits the first step (100 ms); then the 200 ms step, cut to two probes.
        assert probing[:3] == [(1, 0.1, "probing"), (2, 0.1, "probing"), (2, 0.1, "probing")], planned
        assert all(retry == 0.1 for _, retry, _ in probing), planned
        attempt, retry, _ = young[-1]
        assert retry is not None and math.isclose(retry, 0.1 * 2 ** (attempt - 1)), planned
        await stage.refuse(False)
        await until("the rejoin", lambda: r.joins >= 2, timeout=3.0)
    finally:
        await r.client.disconnect()
        await stage.close()


async def test_a_long_outage_is_suspended_then_rejoins(harness) -> None:  # type: ignore[no-untyped-def]
    stage = await open_stage(harness)
    r = recorded(stage.url, reconnect=Backoff(initial=0.02, max=0.05, probe_window=0.05, suspend_after=0.3, suspended_max=0.1))
    try:
        await r.client.connect()
        await stage.refuse(True)
        await stage.drop()
        await until("the young outage", lambda: r.client.info.outage == "young")
        await until("suspended", lambda: r.client.state == "suspended", timeout=3.0)
        assert r.client.info.outage == "old"
        retry_in = await until("a retry planned under the long cap", lambda: r.client.info.retry_in)
        assert retry_in <= 0.1
        await stage.refuse(False)
        await until("the rejoin", lambda: r.joins >= 2, timeout=3.0)
        assert r.states.count("suspended") >= 1
    finally:
        await r.client.disconnect()
        await stage.close()


async def test_a_wake_up_is_answered_with_one_probe() -> None:
    """A suspend the monotonic clock did not count (the wall clock jumped ahead) makes the watchdog
    probe at its next tick; an unanswered probe is a missed heartbeat one interval later."""
    from lifeline_client.heartbeat import Watchdog

    loop = asyncio.get_running_loop()

    class Link:
        last_seen = loop.time()

    wall_offset = [0.0]
    written: List[dict] = []
    missed: List[float] = []
    link = Link()
    watchdog = Watchdog(link, 0.2, written.append, lambda: missed.append(loop.time()), wall=lambda: time.time() + wall_offset[0])
    try:
        await asyncio.sleep(0.05)
        link.last_seen = loop.time()  # traffic: no ping needed
        wall_offset[0] = 3600.0  # the machine slept for an hour
        started = loop.time()
        await until("the probe", lambda: written)
        assert written[0]["type"] == "ping"
        assert loop.time() - started < 0.25, "probed at the next tick, not after the silence limit"
        await until("the missed heartbeat", lambda: missed, timeout=1.0)
    finally:
        watchdog.stop()


async def test_cancelling_async_with_mid_handshake_leaves_nothing(harness) -> None:  # type: ignore[no-untyped-def]
    stage = await open_stage(harness)
    await stage.stall()  # the upgrade never completes
    client = GatewayClient(stage.url, agent_id="demo", reconnect=FAST)

    async def app() -> None:
        async with client:
            raise AssertionError("never joined")

    task = asyncio.ensure_future(app())
    try:
        await until("the attempt to start", lambda: client.state == "connecting")
        for _ in range(100):
            if (await stage.stats())["connections"] >= 1:
                break
            await asyncio.sleep(0.02)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
        assert client.state == "disconnected"
        assert owned_tasks() == []
        await stage.resume()
        for _ in range(100):
            if (await stage.stats())["connections"] == 0:
                break
            await asyncio.sleep(0.02)
        assert (await stage.stats())["connections"] == 0, "the socket was left open"
    finally:
        await client.disconnect()
        await stage.close()


async def test_events_nobody_took_are_not_kept_past_the_bound_and_say_so(harness) -> None:  # type: ignore[no-untyped-def]
    async with joined_client(harness, 4) as (stage, client, errors):
        await stage.publish(client.info.session_id, 6)  # no events() loop yet, no on_event
        await until("events_dropped", lambda: any(e.code == "events_dropped" for e in errors))
        assert client.state == "joined", "an early buffer past its bound is not backpressure"
        stream = client.events()
        first = [await bounded("the kept events", stream.__anext__()) for _ in range(4)]
        assert [e.seq for e in first] == [1, 2, 3, 4]
        await stage.publish(client.info.session_id, 1)
        later = await bounded("the next live event", stream.__anext__())
        assert later.seq == 7, "a later loop starts from the next event"


async def test_the_events_bound_exactly_a_full_queue_and_one_past_it(harness) -> None:  # type: ignore[no-untyped-def]
    """A loop's queue holds exactly ``max_buffered_events`` with the client still joined; the
    event one past it is not queued and pauses the client, and the rejoin replays it."""
    async with joined_client(harness, 4) as (stage, client, errors):
        stream = client.events()
        session = client.info.session_id
        await stage.publish(session, 4)
        await until("cursor 4", lambda: client.info.cursor == 4)
        assert client.state == "joined", "a full queue is not yet past the bound"
        assert errors == []
        await stage.publish(session, 1)
        await until("the overflow signal", lambda: any(e.code == "consumer_overflow" for e in errors))
        assert client.info.state_path == "reconnecting.backpressure"
        assert client.info.cursor == 4, "the event past the bound was not queued"
        got = [await bounded(f"event {n}", stream.__anext__()) for n in range(1, 6)]
        assert [e.seq for e in got] == [1, 2, 3, 4, 5]


async def test_exactly_max_buffered_early_events_are_kept_and_one_past_is_dropped(harness) -> None:  # type: ignore[no-untyped-def]
    async with joined_client(harness, 4) as (stage, client, errors):
        session = client.info.session_id
        await stage.publish(session, 4)  # no events() loop yet, no on_event
        await until("cursor 4", lambda: client.info.cursor == 4)
        assert errors == [], "the bound itself is kept"
        await stage.publish(session, 1)
        await until("events_dropped", lambda: any(e.code == "events_dropped" for e in errors))
        stream = client.events()
        kept = [await bounded("the kept events", stream.__anext__()) for _ in range(4)]
        assert [e.seq for e in kept] == [1, 2, 3, 4]
        await stage.publish(session, 1)
        later = await bounded("the next live event", stream.__anext__())
        assert later.seq == 6, "the one past the bound was dropped"
