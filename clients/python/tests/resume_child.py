"""The first life of the client in tests/test_resume.py, in its own process so it can be killed:
it writes its checkpoint after each event and one line per milestone to stdout."""
import asyncio
import json
import sys

from lifeline_client import Backoff, FileOutboxStore, GatewayClient


async def main(url: str, checkpoint_path: str, store_path: str) -> None:
    client = GatewayClient(url, agent_id="demo", reconnect=Backoff(initial=0.05, max=0.2), outbox_store=FileOutboxStore(store_path))
    client.on_state(lambda state: print("state", state, flush=True))
    await client.connect()
    print("joined", client.info.session_id, flush=True)
    async for event in client.events():
        checkpoint = client.checkpoint()
        assert checkpoint is not None
        with open(checkpoint_path, "w") as handle:
            json.dump({"session_id": checkpoint.session_id, "epoch": checkpoint.epoch, "cursor": checkpoint.cursor}, handle)
        print("event", event.seq, flush=True)
        if event.seq == 3:
            # The test cuts the network once it reads "event 3": send only after that, so the
            # message can only wait in the outbox, and in the store.
            while client.state == "joined":
                await asyncio.sleep(0.01)
            asyncio.ensure_future(client.send("sent before the crash"))
            await asyncio.sleep(0)
            print("queued", flush=True)


asyncio.run(main(*sys.argv[1:4]))
