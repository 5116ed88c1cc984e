"""The real-gateway kit: a Node harness (test/python/harness.ts) runs story stages (a gateway
behind the TCP fault proxy) and this side drives them. One harness per test session; each test
gets its own stage. Waits are bounded, never bare sleeps."""
from __future__ import annotations

import asyncio
import json
import os
import queue
import subprocess
import threading
from typing import Any, Awaitable, Callable, Dict, List, Optional, TypeVar

from conftest import REPO_ROOT

T = TypeVar("T")


class Harness:
    """The Node process; requests are JSON lines, answered by id (thread-safe)."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            ["node", "--import", "tsx", str(REPO_ROOT / "test/python/harness.ts")],
            cwd=str(REPO_ROOT),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            text=True,
            bufsize=1,
        )
        self._lock = threading.Lock()
        self._next = 0
        self._waiting: Dict[int, "queue.Queue[Dict[str, Any]]"] = {}
        ready = self._process.stdout.readline() if self._process.stdout else ""
        if "ready" not in ready:
            raise RuntimeError(f"the gateway harness did not start: {ready!r}")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            answer = json.loads(line)
            box = self._waiting.pop(answer["id"], None)
            if box is not None:
                box.put(answer)

    def request(self, body: Dict[str, Any], timeout: float = 20.0) -> Any:
        box: "queue.Queue[Dict[str, Any]]" = queue.Queue()
        with self._lock:
            self._next += 1
            body = {"id": self._next, **body}
            self._waiting[self._next] = box
            assert self._process.stdin is not None
            self._process.stdin.write(json.dumps(body) + "\n")
            self._process.stdin.flush()
        answer = box.get(timeout=timeout)
        if "error" in answer:
            raise RuntimeError(f"harness {body['op']} failed: {answer['error']}")
        return answer["ok"]

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class Stage:
    """One gateway behind a fault proxy; ``url`` is the proxy's. Methods are the story stage's."""

    def __init__(self, harness: Harness, stage: int, url: str) -> None:
        self._harness = harness
        self.id = stage
        self.url = url

    async def call(self, method: str, *args: Any) -> Any:
        body = {"op": "call", "stage": self.id, "method": method, "args": list(args)}
        return await asyncio.get_running_loop().run_in_executor(None, self._harness.request, body)

    async def drop(self) -> None:
        await self.call("drop")

    async def stall(self) -> None:
        await self.call("stall")

    async def resume(self) -> None:
        await self.call("resume")

    async def refuse(self, on: bool) -> None:
        await self.call("refuse", on)

    async def crash(self) -> None:
        await self.call("crashGateway")

    async def boot(self, keep_log: bool, protocol: Optional[Dict[str, int]] = None) -> None:
        await self.call("bootGateway", {"keepLog": keep_log, **({} if protocol is None else {"protocol": protocol})})

    async def deploy(self, protocol: Optional[Dict[str, int]] = None, spread_ms: Optional[int] = None) -> None:
        options: Dict[str, Any] = {}
        if protocol is not None:
            options["protocol"] = protocol
        if spread_ms is not None:
            options["spreadMs"] = spread_ms
        await self.call("deploy", options)

    async def publish(self, session: str, count: int, kind: str = "tick") -> List[int]:
        return list(await self.call("publish", session, count, kind))

    async def set_state(self, session: str, state: Any) -> None:
        await self.call("setState", session, state)

    async def stats(self) -> Dict[str, Any]:
        return dict(await self.call("stats"))

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._harness.request, {"op": "close", "stage": self.id})


async def open_stage(harness: Harness, **setup: Any) -> Stage:
    answer = await asyncio.get_running_loop().run_in_executor(None, harness.request, {"op": "stage", "setup": setup})
    return Stage(harness, answer["stage"], answer["url"])


class Fleet:
    """Gateway nodes sharing one event log (test/python/fleet-nodes.ts); ``urls[i]`` is node i's."""

    def __init__(self, harness: Harness, fleet: int, urls: List[str]) -> None:
        self._harness = harness
        self.id = fleet
        self.urls = urls

    async def _call(self, node: int, method: str, *args: Any) -> Any:
        body = {"op": "node", "fleet": self.id, "node": node, "method": method, "args": list(args)}
        return await asyncio.get_running_loop().run_in_executor(None, self._harness.request, body)

    async def publish(self, node: int, session: str, count: int) -> List[int]:
        return list(await self._call(node, "publish", session, count))

    async def terminate(self, node: int) -> None:
        """Destroy the node's sockets without a close frame, as a crash does (clients see 1006)."""
        await self._call(node, "terminate")

    async def shut_down(self, node: int) -> None:
        """Close the node's sockets with 1001 and stop listening."""
        await self._call(node, "close")

    async def drain(self, node: int, spread_ms: int = 0) -> None:
        await self._call(node, "drain", spread_ms)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._harness.request, {"op": "closeFleet", "fleet": self.id})


async def open_fleet(harness: Harness, nodes: int = 2) -> Fleet:
    answer = await asyncio.get_running_loop().run_in_executor(None, harness.request, {"op": "fleet", "nodes": nodes})
    return Fleet(harness, answer["fleet"], list(answer["urls"]))


class PraisonAIStage:
    """The PraisonAI stand-in behind the TCP fault proxy (test/python/praisonai-stage.ts).
    ``url`` is the proxy's ``ws://…/ws``, without a token."""

    def __init__(self, harness: Harness, stage: int, url: str) -> None:
        self._harness = harness
        self.id = stage
        self.url = url

    async def _call(self, method: str, *args: Any) -> Any:
        body = {"op": "praisonaiCall", "praisonai": self.id, "method": method, "args": list(args)}
        return await asyncio.get_running_loop().run_in_executor(None, self._harness.request, body)

    async def drop(self) -> None:
        await self._call("drop")

    async def refuse(self, on: bool) -> None:
        await self._call("refuse", on)

    async def publish(self, count: int) -> None:
        """Answer ``count`` turns in every session, as another client of the session would cause."""
        await self._call("publish", count)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._harness.request, {"op": "closePraisonAI", "praisonai": self.id})


async def open_praisonai(harness: Harness, token: str, persisted: Optional[int] = None) -> PraisonAIStage:
    body: Dict[str, Any] = {"op": "praisonai", "token": token, **({} if persisted is None else {"persisted": persisted})}
    answer = await asyncio.get_running_loop().run_in_executor(None, harness.request, body)
    return PraisonAIStage(harness, answer["praisonai"], answer["url"])


async def until(what: str, check: Callable[[], Optional[T]], timeout: float = 5.0) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


async def bounded(what: str, awaitable: Awaitable[T], timeout: float = 5.0) -> T:
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None


def node_available() -> bool:
    return os.path.exists(REPO_ROOT / "node_modules" / "tsx")
