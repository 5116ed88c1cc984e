"""Resume after a process restart: a client process is killed mid-stream; a new one starts from
its checkpoint and its outbox store. Exactly the missed events arrive, and the send that was
waiting in the outbox when the process died is applied once."""
from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import List

from conftest import HERE, PACKAGE_ROOT
from scenario_kit import FAST
from support import bounded, open_stage, until

from lifeline_client import Checkpoint, FileOutboxStore, GatewayClient, GatewayEvent


async def read_until(stream: asyncio.StreamReader, prefix: str, seen: List[str]) -> str:
    while True:
        line = (await stream.readline()).decode().strip()
        if not line:
            raise AssertionError(f"the child ended before {prefix!r}; it said {seen}")
        seen.append(line)
        if line.startswith(prefix):
            return line


async def test_a_killed_process_resumes_from_its_checkpoint_and_store(harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stage = await open_stage(harness, demoAgent=False)
    checkpoint_path, store_path = tmp_path / "checkpoint.json", tmp_path / "outbox.json"
    child = await asyncio.create_subprocess_exec(
        sys.executable, str(HERE / "resume_child.py"), stage.url, str(checkpoint_path), str(store_path),
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)},
    )
    said: List[str] = []
    try:
        assert child.stdout is not None
        session = (await bounded("the child's join", read_until(child.stdout, "joined", said), timeout=10)).split()[1]
        await stage.publish(session, 3)
        await bounded("event 3 in the child", read_until(child.stdout, "event 3", said))
        await stage.refuse(True)
        await stage.drop()
        await bounded("the queued send", read_until(child.stdout, "queued", said))
        await until("the send in the store", lambda: store_path.exists() and json.loads(store_path.read_text()))
        child.kill()
        await child.wait()
        await stage.publish(session, 2)  # missed by the dead process
        await stage.refuse(False)

        saved = json.loads(checkpoint_path.read_text())
        assert saved["cursor"] == 3
        client = GatewayClient(stage.url, agent_id="demo", reconnect=FAST, resume=Checkpoint(**saved), outbox_store=FileOutboxStore(store_path))
        events: List[GatewayEvent] = []
        client.on_event(events.append)
        try:
            await bounded("the second life's join", client.connect())
            await until("the two missed events", lambda: len(events) >= 2)
            assert [(e.seq, e.replayed) for e in events] == [(4, True), (5, True)]
            assert client.info.session_id == session
            for _ in range(100):
                stats = await stage.stats()
                if stats["messages"]:
                    break
                await asyncio.sleep(0.02)
            assert stats["messages"] == ["sent before the crash"], "applied exactly once"
            await until("the store emptied by the ack", lambda: json.loads(store_path.read_text()) == [])
        finally:
            await client.disconnect()
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        await stage.close()
