"""Throughput of the Python client against a raw `websockets` loop, from the blaster
(bench/procs/blaster.ts). `python_throughput.py KIND URL N` prints one JSON line {"eps": …}:
events per second from the first event to the last. KIND `raw`: recv() + json.loads and a type
check per frame. KIND `lifeline`: GatewayClient, every event through `async for … in events()`."""
import asyncio
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "clients" / "python"))

import websockets  # noqa: E402

from lifeline_client import GatewayClient  # noqa: E402


async def raw(url: str, n: int) -> float:
    ws = await websockets.connect(url, ping_interval=None, max_size=None, compression=None)
    try:
        await ws.send('{"type":"hello"}')  # the blaster answers a client's first frame
        count = 0
        first = 0.0
        while count < n:
            frame = json.loads(await ws.recv())
            if frame.get("type") == "event":
                if count == 0:
                    first = time.perf_counter()
                count += 1
        return n / (time.perf_counter() - first)
    finally:
        await ws.close()


async def lifeline(url: str, n: int) -> float:
    client = GatewayClient(url, agent_id="bench", reconnect=False)
    await client.connect()
    try:
        count = 0
        first = 0.0
        async for _event in client.events():
            if count == 0:
                first = time.perf_counter()
            count += 1
            if count == n:
                break
        return n / (time.perf_counter() - first)
    finally:
        await client.disconnect()


def main() -> None:
    kind, url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    eps = asyncio.run(raw(url, n) if kind == "raw" else lifeline(url, n))
    print(json.dumps({"eps": eps}))


if __name__ == "__main__":
    main()
