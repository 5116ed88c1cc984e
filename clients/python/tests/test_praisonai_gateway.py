"""Against the PraisonAI stand-in (test/conformance/praisonai-fake.ts, built from the recorded
transcripts), over real sockets: the ``token`` option reaches a gateway that reads it only from
``?token=`` on its ``/ws`` path, an ``auth_required`` says where the token was sent, and no
message ever shows a token."""
from __future__ import annotations

import asyncio

from scenario_kit import recorded
from support import open_praisonai, until

from lifeline_client import GatewayConnectError

TOKEN = "peer-test-token-7f3a"


async def test_the_token_option_reaches_a_praisonai_gateway(harness) -> None:  # type: ignore[no-untyped-def]
    stage = await open_praisonai(harness, TOKEN)
    r = recorded(stage.url, agent_id="echo", token=TOKEN)
    try:
        await r.client.connect()
        assert r.client.info.url == stage.url, "info.url is the URL given, without the token"
        ack = await r.client.send("hello")
        assert ack.id
    finally:
        await r.client.disconnect()
        await stage.close()


async def test_a_refused_token_says_where_it_was_sent_and_never_shows_it(harness) -> None:  # type: ignore[no-untyped-def]
    stage = await open_praisonai(harness, TOKEN)
    r = recorded(stage.url, agent_id="echo", token="wrong-token-123")
    try:
        try:
            await r.client.connect()
            raise AssertionError("joined with a wrong token")
        except GatewayConnectError as error:
            assert error.code == "auth_required" and error.next_step == "reauthenticate"
            assert "sent a token in hello.token and as ?token= on the URL" in error.message, error.message
        assert all("wrong-token-123" not in e.message for e in r.errors), [e.message for e in r.errors]
    finally:
        await r.client.disconnect()
        await stage.close()


async def _plain_http() -> "asyncio.AbstractServer":
    """A server that answers HTTP 200 instead of upgrading: its error quotes the URL."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


async def test_a_failed_attempt_never_shows_a_token() -> None:
    server = await _plain_http()
    port = server.sockets[0].getsockname()[1]
    try:
        for url, token in ((f"ws://127.0.0.1:{port}/ws?token={TOKEN}", None), (f"ws://127.0.0.1:{port}/ws", TOKEN)):
            r = recorded(url, agent_id="echo", token=token)
            attempt = asyncio.ensure_future(r.client.connect())
            try:
                await until("a failed attempt reported", lambda: r.errors)
                said = [e.message for e in r.errors] + [str(r.client.info.last_close)]
                assert all(TOKEN not in text for text in said), said
                assert f"ws://127.0.0.1:{port}/ws?token=[redacted] answered HTTP 200" in r.errors[0].message, r.errors[0].message
            finally:
                await r.client.disconnect()
                await asyncio.gather(attempt, return_exceptions=True)
    finally:
        server.close()
        await server.wait_closed()
