"""The chart's ``socket`` actor: opens one socket per attempt, turns what happens on it into chart
events, writes frames in order, and closes it when told (``close``), or aborts it without the
closing handshake after a ``terminate`` command (the link is presumed dead). Callbacks from a
connection that is no longer the live one are dropped, so a late close can never hit the next
attempt. Mirrors src/client/socket-actor.ts; the client around it is reached only through
``SocketHost``."""
from __future__ import annotations

import asyncio
from typing import Any, Optional, Set, Tuple

import websockets
from websockets.exceptions import ConnectionClosed, PayloadTooBig

from .connect_failure import cause_of, describe_failure
from .connection import Connection, Frame, SocketHost
from .credentials import place_token
from .errors import GatewayConnectError
from .frame_router import FrameRouter
from .protocol import CLOSE_ABNORMAL, CLOSE_BAD_FRAME, CLOSE_MESSAGE_TOO_BIG, CLOSE_NORMAL, MAX_SERVER_FRAME_BYTES
from .router_target import ConnectionRouterTarget
from .types import CloseInfo

DISCONNECT_WAIT = 1.0
"""Seconds a close waits for the closing handshake before it aborts."""
FRAME_TOO_LARGE = "frame_too_large"
"""The close reason recorded when the gateway sent a frame over ``MAX_SERVER_FRAME_BYTES``."""


class SocketActor:
    """At most one live socket at a time; every task it starts is kept until it ends."""

    def __init__(self, host: SocketHost) -> None:
        self._host = host
        self._connection: Optional[Connection] = None
        self._tasks: Set["asyncio.Task[None]"] = set()

    @property
    def connection(self) -> Optional[Connection]:
        """The live connection, None between attempts."""
        return self._connection

    def open(self, handshake: str, attempt: int, last_close: Optional[CloseInfo]) -> None:
        loop = asyncio.get_running_loop()
        connection = Connection(attempt, last_close, handshake, loop.time())
        self._connection = connection
        connection.task = loop.create_task(self._run(connection))
        self._tasks.add(connection.task)
        connection.task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        """Stop the live socket; its task closes it (an abort after ``terminate``)."""
        connection = self._connection
        self._connection = None
        if connection is None or not connection.live:
            return
        connection.live = False
        if connection.task is not None and not connection.task.done():
            connection.task.cancel()

    def terminate(self) -> None:
        """The chart's ``terminate`` command: the peer presumably cannot answer a closing handshake."""
        if self._connection is not None:
            self._connection.hard = True

    def write(self, frame: Frame) -> bool:
        """Write to the live connection; False when there is none that is open."""
        return self._connection is not None and self._connection.write(frame)

    async def wait_closed(self, timeout: float) -> None:
        """Wait for every socket task to end, cancelling what is still running after ``timeout``."""
        tasks = [t for t in self._tasks if not t.done()]
        if not tasks:
            return
        await asyncio.wait(tasks, timeout=timeout)
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, connection: Connection) -> None:
        """One socket, from open to close."""
        ws: Any = None
        code, reason = CLOSE_ABNORMAL, ""
        try:
            ws = await self._connect(connection)
            if ws is None or not connection.live:
                return
            connection.open = True
            await self._read(connection, ws)
        except ConnectionClosed as closed:
            code, reason = _close_of(closed)
            if _refused_too_big(closed):
                # Our own 1009 must not read as "our message was too big" (that would refuse an
                # innocent send): the gateway broke the protocol (4000), and the client says so.
                code, reason = CLOSE_BAD_FRAME, FRAME_TOO_LARGE
                self._frame_too_large()
        except asyncio.CancelledError:
            raise
        except Exception as cause:  # noqa: BLE001 - any failure to connect is a failed attempt
            reason = self._failed(connection, cause)
        finally:
            await _close_socket(ws, connection.hard)
            self._closed(connection, code, reason)

    async def _connect(self, connection: Connection) -> Any:
        """The open socket, or None when the attempt failed before one (reported and closed)."""
        try:
            url = connection.url = await self._host.next_url(connection.attempt, connection.last_close)
        except GatewayConnectError as error:
            # A url function that fails is a counted, backed-off failure, as a refused connection is.
            self._host.failed(error, error.__cause__ if isinstance(error.__cause__, Exception) else error, False)
            self._closed(connection, CLOSE_ABNORMAL, "no gateway url")
            return None
        try:
            token = connection.token = await self._host.token()
        except Exception as cause:  # noqa: BLE001 - the app's function may fail any way
            # A counted, backed-off failure; the next attempt calls the function again.
            unavailable = GatewayConnectError("token_unavailable", f"The token function failed: {cause!r}", "wait_then_retry")
            unavailable.__cause__ = cause
            self._host.failed(unavailable, cause, False)
            self._closed(connection, CLOSE_ABNORMAL, "token function failed")
            return None
        # The token goes in hello.token, and in ?token= too on a /ws URL (PraisonAI reads only that).
        connection.placement = place_token(url, token)
        # `websockets.connect` is the client in 10.4 and in today's release alike (loaded lazily,
        # which type checkers cannot see).
        return await websockets.connect(  # type: ignore[attr-defined]
            connection.placement.url,
            open_timeout=None,  # the chart's handshakeTimeout covers it
            ping_interval=None,  # liveness is the protocol's heartbeat, on our clock
            ping_timeout=None,
            close_timeout=DISCONNECT_WAIT,
            # Refused at the frame header, before it is read (1009); not policy.max_payload,
            # which limits frames to the gateway.
            max_size=MAX_SERVER_FRAME_BYTES,
            compression=None,
        )

    async def _read(self, connection: Connection, ws: Any) -> None:
        loop = asyncio.get_running_loop()
        connection.last_seen = loop.time()
        router = FrameRouter(ConnectionRouterTarget(self._host, connection), connection.handshake, self._host.protocol)
        writer = loop.create_task(_pump(connection, ws))
        try:
            connection.write(self._host.handshake_frame(connection.handshake, connection.token))
            self._host.lifecycle({"type": "socket.opened"})
            while connection.live:
                message = await ws.recv()
                if not connection.live:
                    break
                connection.last_seen = loop.time()
                if isinstance(message, str):
                    router.route(message)
                else:
                    self._host.report(GatewayConnectError("bad_server_frame", "Binary frames are not part of the protocol."))
        finally:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    def _closed(self, connection: Connection, code: int, reason: str) -> None:
        """Report the end of a connection, once, if it is still the live one."""
        if not connection.live:
            return
        connection.live = False
        if self._connection is connection:
            self._connection = None
        self._host.closed(code, reason)

    def _failed(self, connection: Connection, cause: Exception) -> str:
        """A failed attempt, reported once per distinct cause: before the socket opened it is
        ``connect_failed``, in the TypeScript client's words (a refused port, a name that does not
        resolve, an HTTP answer instead of the upgrade, TLS); after, the connection dropped.
        Returns the cause in a few words: the close reason the chart records."""
        code, message = cause_of(cause)
        if connection.open:
            error = GatewayConnectError("connection_lost", connection.shown(f"The connection dropped ({code or message})."), "wait_then_retry")
            short = connection.shown(code or message[:64])
        else:
            opened = connection.placement.url if connection.placement is not None else (connection.url or "")
            error, short = describe_failure(code, connection.shown(message), opened, CLOSE_ABNORMAL)
        error.__cause__ = cause
        self._host.failed(error, cause, True)
        return short

    def _frame_too_large(self) -> None:
        error = GatewayConnectError(
            "bad_server_frame",
            f"The gateway sent a frame over {MAX_SERVER_FRAME_BYTES} bytes (MAX_SERVER_FRAME_BYTES), refused before it was read. "
            "The connection was closed; the client resumes from its cursor with backoff.",
            "wait_then_retry",
            close_code=CLOSE_BAD_FRAME,
        )
        self._host.report_cause(error)


async def _pump(connection: Connection, ws: Any) -> None:
    """Write queued frames in order (``write`` is synchronous for the outbox and the router)."""
    while True:
        text = await connection.outgoing.get()
        try:
            await ws.send(text)
        except ConnectionClosed:
            return


def _refused_too_big(closed: ConnectionClosed) -> bool:
    """Whether ``websockets`` closed (1009) because an incoming frame passed ``max_size``: it
    chains the ``PayloadTooBig``; failing that, it sent 1009 first (a 1009 from the gateway about
    our message is received first, then echoed)."""
    sent = closed.sent
    sent_first = sent is not None and sent.code == CLOSE_MESSAGE_TOO_BIG and closed.rcvd_then_sent is not True
    return isinstance(closed.__cause__, PayloadTooBig) or sent_first


def _close_of(closed: ConnectionClosed) -> Tuple[int, str]:
    # `rcvd` is the close frame the peer sent (None when the TCP connection just died).
    frame = closed.rcvd
    if frame is None:
        return CLOSE_ABNORMAL, ""
    return frame.code, frame.reason


async def _close_socket(ws: Any, hard: bool) -> None:
    """Close quietly: a closing handshake, or an abort when the peer presumably cannot answer."""
    if ws is None:
        return
    transport = getattr(ws, "transport", None)
    try:
        if hard:
            if transport is not None:
                transport.abort()
            return
        await asyncio.wait_for(ws.close(CLOSE_NORMAL, "client closing"), DISCONNECT_WAIT)
    except (Exception, asyncio.CancelledError):  # noqa: BLE001 - it is going away anyway
        if transport is not None:
            transport.abort()
