"""Client failover across gateway nodes: ``url`` as a list (each attempt after the first goes to
the next node) or as a function asked before every attempt. Real gateways share one event log,
as a fleet on Redis does, so a client that loses node A resumes on node B from its cursor."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, List, Tuple

import pytest
from scenario_kit import Recording, owned_tasks, recorded
from support import Fleet, bounded, open_fleet, until

from lifeline_client import Backoff, CloseInfo, GatewayClient, GatewayConnectError, GatewayUrl, UrlContext
from lifeline_client.gateway_urls import UrlPicker


@asynccontextmanager
async def fleet_scene(harness: Any, url: Any = None, **options: Any) -> AsyncIterator[Tuple[Fleet, Recording]]:
    """Two nodes on one log and a recording client; ``url`` is a function of the fleet (default: the list of both)."""
    fleet = await open_fleet(harness, nodes=2)
    r = recorded(fleet.urls if url is None else url(fleet), **options)
    try:
        yield fleet, r
    finally:
        await r.client.disconnect()
        await fleet.close()


@pytest.mark.parametrize("how", ["terminate", "shut_down"])
async def test_a_list_moves_to_node_b_with_exactly_the_missed_events(harness, how: str) -> None:  # type: ignore[no-untyped-def]
    async with fleet_scene(harness) as (fleet, r):
        a, b = fleet.urls
        await r.client.connect()
        assert r.client.info.url == a
        session = r.client.info.session_id
        assert session is not None
        await fleet.publish(0, session, 3)
        await until("three events on node A", lambda: len(r.events) >= 3)

        # A crash (1006, a counted failure) or a shutdown (1001, prompt, not counted): both move on.
        await (fleet.terminate(0) if how == "terminate" else fleet.shut_down(0))
        await fleet.publish(1, session, 2)
        await until("joined on node B", lambda: r.client.state == "joined" and r.client.info.url == b, timeout=5.0)
        await until("the two missed events", lambda: len(r.events) >= 5)
        await fleet.publish(1, session, 1)
        await until("a live event on node B", lambda: len(r.events) >= 6)

        assert r.seqs() == [1, 2, 3, 4, 5, 6]
        assert r.gaps == []
        resume = r.client.info.resume
        assert resume is not None and (resume.mode, resume.start, resume.head) == ("full", 4, 5)
        assert r.client.info.session_id == session


async def test_a_drain_tells_the_function_and_moves_the_client_on_without_a_failure(harness) -> None:  # type: ignore[no-untyped-def]
    asked: List[UrlContext] = []

    def pick(fleet: Fleet) -> Any:
        def url(context: UrlContext) -> str:
            asked.append(context)
            return fleet.urls[1] if context.drain else fleet.urls[0]

        return url

    async with fleet_scene(harness, pick) as (fleet, r):
        a, b = fleet.urls
        await r.client.connect()
        assert asked == [UrlContext(attempt=0, previous_url=None, last_close=None, drain=False)]
        session = r.client.info.session_id
        r.states.clear()

        await fleet.drain(0, spread_ms=0)
        await until("joined on node B after the drain", lambda: r.client.state == "joined" and r.client.info.url == b, timeout=5.0)
        assert asked[1] == UrlContext(attempt=0, previous_url=a, last_close=CloseInfo(1001, "draining"), drain=True)
        assert r.client.info.attempt == 0
        assert r.states == ["reconnecting", "connecting", "negotiating", "joined"]
        assert r.client.info.session_id == session


async def test_an_async_function_gets_the_attempt_number_and_the_failed_url_and_its_reason(harness) -> None:  # type: ignore[no-untyped-def]
    asked: List[UrlContext] = []

    def pick(fleet: Fleet) -> Any:
        async def url(context: UrlContext) -> str:
            asked.append(context)
            # Node A until two attempts in a row have failed, then node B.
            return fleet.urls[1] if context.attempt >= 2 else fleet.urls[0]

        return url

    async with fleet_scene(harness, pick) as (fleet, r):
        a, b = fleet.urls
        await r.client.connect()
        await fleet.terminate(0)
        await until("joined on node B", lambda: r.client.state == "joined" and r.client.info.url == b, timeout=5.0)

        assert [(c.attempt, c.previous_url, c.drain) for c in asked] == [(0, None, False), (1, a, False), (2, a, False)]
        lost, refused = asked[1].last_close, asked[2].last_close
        assert lost is not None and lost.code == 1006  # the crash: no close frame
        assert refused is not None and refused.code == 1006 and refused.reason != ""  # why node A refused (nothing listens)
        assert "connect_failed" in r.codes()  # node A refused, as the TypeScript client names it


async def test_a_url_function_that_raises_fails_that_attempt_then_the_client_gets_in(harness) -> None:  # type: ignore[no-untyped-def]
    calls: List[int] = []

    def pick(fleet: Fleet) -> Any:
        def url(context: UrlContext) -> str:
            calls.append(context.attempt)
            if len(calls) == 1:
                raise RuntimeError("service discovery is down")
            return fleet.urls[0]

        return url

    async with fleet_scene(harness, pick) as (fleet, r):
        await r.client.connect()
        assert r.codes()[0] == "connect_failed"
        assert "service discovery is down" in r.errors[0].message
        assert isinstance(r.errors[0].__cause__, RuntimeError)
        assert calls == [0, 1]
        assert r.client.info.url == fleet.urls[0]


@pytest.mark.parametrize(
    "returned, text",
    [(42, "url() must be a string; got int 42."), ("ftp://x", "url() must use ws:, wss:, http: or https:")],
)
async def test_a_url_function_returning_junk_is_a_failed_attempt(returned: object, text: str) -> None:
    def junk(context: UrlContext) -> str:
        return returned  # type: ignore[return-value]  # what an untyped app might do

    client = GatewayClient(junk, agent_id="demo", reconnect=Backoff(initial=0.01, max=0.02, max_attempts=1))
    errors: List[GatewayConnectError] = []
    client.on_error(errors.append)
    with pytest.raises(GatewayConnectError) as stopped:
        await client.connect()
    assert stopped.value.code == "retries_exhausted"
    assert [e.code for e in errors] == ["connect_failed", "connect_failed", "retries_exhausted"]
    assert errors[0].message.startswith(text)
    assert client.info.url is None


async def test_an_async_url_function_that_never_answers_is_cut_off_by_the_handshake_timeout() -> None:
    never = asyncio.Event()
    cancelled: List[bool] = []

    async def hang(context: UrlContext) -> str:
        try:
            await never.wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return "ws://unused.test"

    client = GatewayClient(hang, agent_id="demo", handshake_timeout=0.1, reconnect=Backoff(initial=0.01, max=0.02, max_attempts=0))
    with pytest.raises(GatewayConnectError) as stopped:
        await bounded("connect() to give up", client.connect())
    assert stopped.value.code == "retries_exhausted"
    assert client.info.last_close == CloseInfo(4008, "handshake_timeout")
    await until("the hung url function cancelled", lambda: cancelled == [True])
    assert owned_tasks() == []


@pytest.mark.parametrize(
    "url, text",
    [
        ([], "url must not be an empty list."),
        (("ws://127.0.0.1:1", "ftp://x"), "url[1] must use ws:, wss:, http: or https:"),
        (["ws://127.0.0.1:1", b"ws://x"], "url[1] must be a string; got bytes"),
        (["not a url"], 'url[0] must be an absolute ws://, wss://, http:// or https:// URL; got "not a url".'),
        (b"ws://x", "url must be a string, a list of strings or a function returning one; got bytes."),
        (8080, "url must be a string, a list of strings or a function returning one; got int."),
        ({"ws://x"}, "url must be a string, a list of strings or a function returning one; got set."),
    ],
)
def test_bad_url_options_are_refused_up_front(url: Any, text: str) -> None:
    with pytest.raises(GatewayConnectError) as bad:
        GatewayClient(url, agent_id="demo")
    assert bad.value.code == "invalid_options"
    assert bad.value.next_step == "do_not_retry"
    assert bad.value.message.startswith(text)


async def test_a_list_is_tried_in_turn_with_http_used_as_ws() -> None:
    nodes: List[str] = ["ws://a.test/ws", "http://b.test/ws", "HTTPS://c.test"]
    picker = UrlPicker(nodes)
    nodes.append("ws://added-later.test")  # the client keeps its own copy
    assert picker.current is None
    picked = [await picker.next(attempt, None) for attempt in range(4)]
    assert picked == ["ws://a.test/ws", "ws://b.test/ws", "wss://c.test", "ws://a.test/ws"]
    assert picker.current == "ws://a.test/ws"


def test_client_url_names_the_given_url_before_the_first_attempt() -> None:
    urls: GatewayUrl = ["ws://a.test", "ws://b.test"]
    assert GatewayClient("http://x/ws", agent_id="demo").url == "ws://x/ws"
    assert GatewayClient(urls, agent_id="demo").url is None
    assert GatewayClient(urls, agent_id="demo").info.url is None
