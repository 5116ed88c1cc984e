"""The stories (stories/scenarios) against a real gateway behind the TCP fault proxy, with the
Python client: the same faults, the same promises as the TypeScript client keeps."""
from __future__ import annotations

import asyncio

import pytest
from scenario_kit import joined_with_events, scene
from support import bounded, until

from lifeline_client import GatewayConnectError


async def test_flaky_network(harness) -> None:  # type: ignore[no-untyped-def]
    async with scene(harness) as (stage, r):
        session = await joined_with_events(stage, r, 3)
        expected = 3
        for drop in range(3):
            joins = r.joins
            await stage.refuse(True)
            await stage.drop()
            await until("the client to back off", lambda: r.client.state == "reconnecting")
            await stage.publish(session, 2)
            expected += 2
            await stage.refuse(False)
            await until("the rejoin", lambda: r.joins > joins)
            await until(f"{expected} events", lambda: len(r.events) >= expected)
            assert r.client.info.resume is not None and r.client.info.resume.mode == "full", f"resume {drop + 1}"
        assert r.seqs() == list(range(1, 10))
        assert r.gaps == []
        assert sum(e.replayed for e in r.events) == 6


async def test_restart_keeps_log(harness) -> None:  # type: ignore[no-untyped-def]
    async with scene(harness) as (stage, r):
        session = await joined_with_events(stage, r, 3)
        epoch = r.client.info.epoch
        await stage.crash()
        await until("the client to back off", lambda: r.client.state == "reconnecting")
        await stage.boot(keep_log=True)
        await until("the rejoin", lambda: r.joins >= 2)
        await stage.publish(session, 2)
        await until("5 events", lambda: len(r.events) >= 5)
        assert r.client.info.epoch == epoch
        assert r.gaps == []
        assert r.seqs() == [1, 2, 3, 4, 5]


async def test_restart_loses_log(harness) -> None:  # type: ignore[no-untyped-def]
    async with scene(harness) as (stage, r):
        session = await joined_with_events(stage, r, 3)
        epoch = r.client.info.epoch
        await stage.crash()
        await until("the client to back off", lambda: r.client.state == "reconnecting")
        await stage.boot(keep_log=False)
        gap = await until("a gap", lambda: r.gaps[0] if r.gaps else None)
        assert gap.reason == "epoch"
        assert r.client.info.epoch != epoch
        await until("the rejoin", lambda: r.client.state == "joined")
        await stage.set_state(session, {"note": "rebuilt after the restart"})
        snapshot = await bounded("resync", r.client.resync())
        assert snapshot.cursor == 0
        await stage.publish(session, 2)
        await until("5 events", lambda: len(r.events) >= 5)
        assert r.seqs()[3:] == [1, 2]


async def test_outage_past_window(harness) -> None:  # type: ignore[no-untyped-def]
    async with scene(harness, {"replayWindow": 5}) as (stage, r):
        snapshots = []
        r.client.on_gap(lambda gap: asyncio.ensure_future(r.client.resync()).add_done_callback(lambda f: snapshots.append(f.result())))
        session = await joined_with_events(stage, r, 2)
        await stage.refuse(True)
        await stage.drop()
        await until("the client to back off", lambda: r.client.state == "reconnecting")
        await stage.publish(session, 10)
        await stage.set_state(session, {"summary": "state as of event #12"})
        await stage.refuse(False)
        gap = await until("a gap", lambda: r.gaps[0] if r.gaps else None)
        assert (gap.reason, gap.expected, gap.received) == ("window", 3, 8)
        await until("7 events", lambda: len(r.events) >= 7)
        assert [e.seq for e in r.events if e.replayed] == [8, 9, 10, 11, 12]
        snapshot = await until("a snapshot", lambda: snapshots[0] if snapshots else None)
        assert snapshot.cursor == 12


async def test_rolling_upgrade(harness) -> None:  # type: ignore[no-untyped-def]
    async with scene(harness, {"protocol": {"min": 1, "max": 1}}, protocol=(1, 2)) as (stage, r):
        session = await joined_with_events(stage, r, 2)
        assert r.client.info.protocol == 1
        await stage.deploy(protocol={"min": 1, "max": 2})
        await until("the rejoin", lambda: r.joins >= 2)
        assert r.client.info.protocol == 2
        await stage.publish(session, 2)
        await until("4 events", lambda: len(r.events) >= 4)
        assert r.seqs() == [1, 2, 3, 4]
        assert r.gaps == []


async def test_client_too_old(harness) -> None:  # type: ignore[no-untyped-def]
    async with scene(harness, {"protocol": {"min": 2, "max": 2}}, protocol=(1, 1)) as (stage, r):
        with pytest.raises(GatewayConnectError) as refused:
            await bounded("the refusal", r.client.connect())
        assert refused.value.code == "protocol_unsupported"
        assert refused.value.next_step == "upgrade_client"
        assert r.client.state == "disconnected"
        # No retry loop: nothing may happen for a while (bounded, and failing on the first retry).
        with pytest.raises(AssertionError):
            await until("a retry", lambda: "reconnecting" in r.states, timeout=0.6)
        stats = await stage.stats()
        assert stats["accepted"] == 1


async def test_rate_limited(harness) -> None:  # type: ignore[no-untyped-def]
    async with scene(harness, {"rateLimit": {"connections": 1, "perMs": 1500}}) as (stage, r):
        await r.client.connect()
        await stage.drop()
        refusal = await until("a rate_limited refusal", lambda: next((e for e in r.errors if e.code == "rate_limited"), None))
        assert refusal.next_step == "wait_then_retry"
        assert refusal.retry_after is not None and refusal.retry_after >= 1.0
        retry_in = await until("the backoff after the refusal", lambda: r.client.info.retry_in)
        assert retry_in >= refusal.retry_after
        await until("the rejoin", lambda: r.joins >= 2, timeout=5.0)
        stats = await stage.stats()
        assert stats["refused"].get("rate_limited") == 1


async def test_half_open(harness) -> None:  # type: ignore[no-untyped-def]
    async with scene(harness, {"heartbeatMs": 300}) as (stage, r):
        session = await joined_with_events(stage, r, 2)
        await stage.stall()
        await stage.publish(session, 2)
        await until("the heartbeat watchdog", lambda: r.client.info.last_close is not None and r.client.info.last_close.code == 4002, timeout=3.0)
        assert r.client.state in ("reconnecting", "connecting", "negotiating")
        await stage.resume()
        await until("the rejoin", lambda: r.joins >= 2)
        await until("4 events", lambda: len(r.events) >= 4)
        assert r.seqs() == [1, 2, 3, 4]
        assert [e.seq for e in r.events if e.replayed] == [3, 4]


async def test_drain_during_deploy(harness) -> None:  # type: ignore[no-untyped-def]
    async with scene(harness) as (stage, r):
        session = await joined_with_events(stage, r, 2)
        deploying = asyncio.ensure_future(stage.deploy(spread_ms=200))
        await until("the draining notice", lambda: r.client.info.last_close is not None and r.client.info.last_close.reason == "draining")
        assert r.client.info.attempt == 0, "a drain is not counted as a failure"
        await until("the rejoin", lambda: r.joins >= 2)
        await bounded("the deploy", deploying)
        await stage.publish(session, 2)
        await until("4 events", lambda: len(r.events) >= 4)
        assert r.seqs() == [1, 2, 3, 4]
        assert r.gaps == []


async def test_offline_sends(harness) -> None:  # type: ignore[no-untyped-def]
    async with scene(harness) as (stage, r):
        await r.client.connect()
        await stage.refuse(True)
        await stage.drop()
        await until("the client to back off", lambda: r.client.state == "reconnecting")
        first = asyncio.ensure_future(r.client.send("first"))
        second = asyncio.ensure_future(r.client.send("second"))
        await asyncio.sleep(0)
        assert r.client.state != "joined"
        await stage.refuse(False)
        acks = await bounded("both acks", asyncio.gather(first, second))
        assert [a.duplicate for a in acks] == [False, False]
        third = asyncio.ensure_future(r.client.send("third"))
        await asyncio.sleep(0)
        await stage.drop()
        await bounded("the third ack", third)
        stats = await stage.stats()
        for text in ("first", "second", "third"):
            assert stats["messages"].count(text) == 1, (text, stats["messages"])
        await until("the demo agent to answer all three", lambda: sum(e.type == "reply" for e in r.events) >= 3)
        assert r.gaps == []
