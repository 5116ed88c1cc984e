"""The facade: turns method calls into chart events and reads the chart's state. The lifecycle
itself is the table-driven machine (machine.py); this module plugs the real socket, heartbeat and
outbox into its ports and fans out what the tracker delivers. Every task it starts is owned and
cancelled on ``disconnect()``; time is ``loop.time()`` (monotonic)."""
from __future__ import annotations

import asyncio
import inspect
import json
import random as _random
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Tuple, Union

import websockets
from websockets.exceptions import ConnectionClosed, PayloadTooBig

from .backoff import Backoff
from .connect_failure import cause_of, describe_failure
from .connect_waiters import DEFAULT_CONNECT_TIMEOUT, ConnectWaiters
from .credentials import TokenPlacement, auth_required_hint, place_token, redact_tokens, scrub_secret
from .errors import GatewayConnectError, error_from_data
from .event_stream import DEFAULT_MAX_BUFFERED_EVENTS, EventIterator, EventStreams
from .frame_router import FrameRouter
from .gateway_urls import GatewayUrl, UrlPicker, gateway_url_problem
from .gap_tracker import GapTracker
from .heartbeat import Watchdog
from .listeners import ListenerSet, ListenerTasks
from .machine import Lifecycle, TimerHandle
from .message_retries import MessageRetries
from .outbox import DEFAULT_OUTBOX_MAX_MESSAGES, Outbox
from .protocol import CLOSE_ABNORMAL, CLOSE_BAD_FRAME, CLOSE_HANDSHAKE_TIMEOUT, CLOSE_MESSAGE_TOO_BIG, CLOSE_NORMAL, CLOSE_SESSION_EXPIRED, MAX_SERVER_FRAME_BYTES, MIN_PROTOCOL_VERSION, PRAISONAI_MARKER, PROTOCOL_VERSION, close_means_too_big
from .outbox_store import OutboxStore
from .types import Checkpoint, ClientInfo, ClientState, CloseInfo, GapInfo, GatewayEvent, SendResult, SessionSnapshot

Token = Union[None, str, Callable[[], Union[str, None, Awaitable[Optional[str]]]]]
"""A token, or a function (sync or async) called before each connection attempt."""

DEFAULT_CAPABILITIES: Tuple[str, ...] = ("ack", "batch", "epoch")
NO_RESYNC = (
    "This gateway offers no resync method (its hello_ok does not list resync; PraisonAI's does not): the events a gap "
    "reported are gone. Rebuild the state your own way (your app's own store or history), and carry on: later events keep arriving."
)
"""``resync()``'s ``configuration_error`` where the gateway offers none (the TypeScript client's words)."""
DISCONNECT_WAIT = 1.0
"""Seconds ``disconnect()`` waits for the closing handshake before it closes hard."""

_PUBLIC_STATES: Dict[str, ClientState] = {
    "disconnected": "disconnected",
    "connecting": "connecting",
    "negotiating": "negotiating",
    "joined": "joined",
    "reconnecting": "reconnecting",
    "suspended": "suspended",
}


def public_state(machine: Lifecycle) -> ClientState:
    """The public status: the chart's top-level state. A top-level state missing here is a bug
    the chart-table test catches, so this raises rather than guessing."""
    top = machine.top
    if top not in _PUBLIC_STATES:
        raise AssertionError(f"unmapped chart state {top!r}")
    return _PUBLIC_STATES[top]


class _Connection:
    """One socket's life. Callbacks from a connection that is no longer live are ignored, so a
    late close can never hit the state of the next connection."""

    def __init__(self, attempt: int, last_close: Optional[CloseInfo], handshake: str, now: float) -> None:
        self.attempt = attempt
        self.last_close = last_close
        self.url: Optional[str] = None
        self.handshake = handshake
        self.live = True
        self.open = False
        self.ws: Any = None
        self.last_seen = now
        self.suspect_dead = False
        self.outgoing: "asyncio.Queue[str]" = asyncio.Queue()
        self.task: Optional["asyncio.Task[None]"] = None
        self.token: Optional[str] = None
        self.placement: Optional[TokenPlacement] = None
        """Where this attempt's token went (``hello.token``, ``?token=``), for an ``auth_required``."""

    def shown(self, text: str) -> str:
        """``text`` as a message may show it: no token from the URL or this attempt's token option."""
        return scrub_secret(redact_tokens(text), self.token)


class GatewayClient:
    """A reconnecting, resuming client of one Lifeline gateway agent.

    >>> async with GatewayClient("ws://127.0.0.1:8787", agent_id="demo") as client:
    ...     await client.send("hello")
    ...     async for event in client.events():
    ...         print(event.type, event.data)

    ``url`` is one gateway URL, a list of node URLs (every attempt after the first goes to the next
    one, round the list: after a failed attempt, a drop or a drain), or a function (sync or async)
    called before every attempt with a ``UrlContext`` that returns the URL to use.
    """

    def __init__(
        self,
        url: GatewayUrl,
        *,
        agent_id: str,
        token: Token = None,
        reconnect: Union[Backoff, bool] = True,
        session_id: Optional[str] = None,
        resume: Optional[Checkpoint] = None,
        outbox_store: Optional[OutboxStore] = None,
        protocol: Tuple[int, int] = (MIN_PROTOCOL_VERSION, PROTOCOL_VERSION),
        capabilities: Tuple[str, ...] = DEFAULT_CAPABILITIES,
        handshake_timeout: float = 10.0,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        outbox_max_messages: int = DEFAULT_OUTBOX_MAX_MESSAGES,
        max_buffered_events: int = DEFAULT_MAX_BUFFERED_EVENTS,
        random: Optional[_random.Random] = None,
    ) -> None:
        _validate(url, agent_id, token, reconnect, protocol, capabilities, handshake_timeout, outbox_max_messages, max_buffered_events)
        if not (isinstance(connect_timeout, (int, float)) and connect_timeout > 0):
            raise GatewayConnectError("invalid_options", "connect_timeout must be > 0 seconds (math.inf: no deadline).", "do_not_retry")
        self._connect_timeout = float(connect_timeout)
        self._urls = UrlPicker(url)
        self.agent_id = agent_id
        self._token = token
        self._protocol = protocol
        self._capabilities = capabilities
        self._random = random or _random.Random()
        self._listener_errors = 0
        self._reporting = False
        # Async listeners run as tasks the client owns, cancelled by disconnect().
        self._listener_tasks = ListenerTasks(self._listener_failed)
        self._states: ListenerSet[ClientState] = ListenerSet("on_state", self._listener_failed, self._listener_tasks)
        self._gaps: ListenerSet[GapInfo] = ListenerSet("on_gap", self._listener_failed, self._listener_tasks)
        self._events: ListenerSet[GatewayEvent] = ListenerSet("on_event", self._listener_failed, self._listener_tasks)
        self._errors: ListenerSet[GatewayConnectError] = ListenerSet("on_error", self._listener_failed, self._listener_tasks)
        self._snapshots: ListenerSet[SessionSnapshot] = ListenerSet("on_snapshot", self._listener_failed, self._listener_tasks)
        self._streams = EventStreams(max_buffered_events, self._drained, self._early_dropped)
        if resume is not None:
            self._tracker = GapTracker(self._deliver, self._gaps.emit, resume.session_id, resume.cursor, resume.epoch)
        else:
            self._tracker = GapTracker(self._deliver, self._gaps.emit, session_id)
        self._outbox = Outbox(outbox_max_messages, store=outbox_store)
        # Not joined when one falls due: the next join's flush resends it with everything else.
        self._message_retries = MessageRetries(self._schedule, self._resend_message)
        self._connection: Optional[_Connection] = None
        self._closing: Set["asyncio.Task[None]"] = set()
        self._heartbeat: Optional[Watchdog] = None
        # Failed attempts so far (the chart's counter resets; this one only grows), for connect(max_failures=).
        self._failed_attempts = 0
        self._last_failure: Optional[GatewayConnectError] = None
        self._connect_waiters = ConnectWaiters(lambda: self._failed_attempts, self._gave_up)
        self._resync_waiters: List["asyncio.Future[SessionSnapshot]"] = []
        self._handshake: Dict[str, Any] = {"features": None, "policy": None, "presence": [], "health": None, "acks": False, "resync": True}
        self._last_cause: Optional[Exception] = None
        self._reported_cause: Optional[str] = None
        self._state: ClientState = "disconnected"
        self._last_error: Optional[Dict[str, Any]] = None
        self._last_attempt = 0
        options: Union[Dict[str, float], bool, None] = None if reconnect is True else (False if reconnect is False else reconnect.to_options())
        self._machine = Lifecycle.create(
            reconnect=options,
            handshake_timeout_ms=handshake_timeout * 1000,
            random=self._random.random,
            refreshable_token=callable(token),
            scheduler=self._schedule,
            ports=self,
            on_change=self._on_change,
        )

    # -- public API ------------------------------------------------------------------------------

    async def __aenter__(self) -> "GatewayClient":
        try:
            await self.connect()
        except BaseException:
            await self.disconnect()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.disconnect()

    async def connect(self, *, timeout: Optional[float] = None, max_failures: Optional[int] = None) -> None:
        """Connect (or retry at once while reconnecting) and wait until joined. Raises
        ``GatewayConnectError`` when the client stops instead (refusal, retries exhausted), and
        ``connect_timeout`` (naming the last cause) when not joined within ``timeout`` seconds
        (default: the client's ``connect_timeout``, 30; ``math.inf`` for no deadline) or after
        ``max_failures`` failed attempts. After a ``connect_timeout`` the client keeps trying
        until ``disconnect()``."""
        if self._state == "joined":
            return
        deadline = self._connect_timeout if timeout is None else timeout
        if not deadline > 0 or (max_failures is not None and max_failures < 1):
            raise GatewayConnectError("invalid_options", "connect() takes timeout > 0 seconds and max_failures >= 1.", "do_not_retry")
        waiter = self._connect_waiters.add(deadline, max_failures)
        self._machine.send({"type": "user.connect"})
        try:
            await asyncio.shield(waiter)
        finally:
            self._connect_waiters.forget(waiter)

    async def disconnect(self) -> None:
        """Close the connection and stop reconnecting. Pending sends fail with ``client_closed``;
        ``events()`` iterators end. Returns once the socket and every task are gone, async
        listeners' tasks included (cancelled)."""
        self._machine.send({"type": "user.disconnect"})
        self._stop_with(GatewayConnectError("client_closed", "disconnect() was called."), streams_raise=False)
        self._stop_heartbeat_task()
        tasks = [t for t in self._closing if not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=DISCONNECT_WAIT + 0.5)
            for task in tasks:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._listener_tasks.close()

    async def send(self, content: Any) -> SendResult:
        """Send a message; returns its ack (``id``, ``duplicate``). Kept in the bounded outbox
        until acknowledged and resent with the same id after a rejoin, so it is applied once.
        Raises ``payload_too_large`` up front when it exceeds the gateway's ``max_payload`` (or the
        smaller limit learned from a 1009 close), ``invalid_message`` when it is not JSON."""
        message_id, future = self._outbox.add(content, self._max_payload())
        if message_id and self._state == "joined":
            self._outbox.write_one(message_id, self._write_message, self._handshake["acks"])
        # Cancelling the caller does not withdraw the message: it stays queued and is sent once.
        return await asyncio.shield(future)

    def events(self) -> EventIterator:
        """Every event in seq order, never twice, across reconnects; ends on ``disconnect()``
        and raises ``GatewayConnectError`` when the client stops for good."""
        return self._streams.iterate()

    async def resync(self) -> SessionSnapshot:
        """Ask for the session state (``snapshot``); sent on the next join when not joined."""
        future: "asyncio.Future[SessionSnapshot]" = asyncio.get_running_loop().create_future()
        self._resync_waiters.append(future)
        if self._state == "joined" and len(self._resync_waiters) == 1:
            self._request_snapshot()
        return await future

    def on_state(self, listener: Callable[[ClientState], object]) -> Callable[[], None]:
        """Hear every change of ``state``; returns the unsubscribe callable."""
        return self._states.add(listener)

    def on_gap(self, listener: Callable[[GapInfo], object]) -> Callable[[], None]:
        """Hear every gap (events that will never arrive); returns the unsubscribe callable."""
        return self._gaps.add(listener)

    def on_event(self, listener: Callable[[GatewayEvent], object]) -> Callable[[], None]:
        """Hear every event; stops keeping early events for a first ``events()`` loop."""
        self._streams.drop_early()
        return self._events.add(listener)

    def on_error(self, listener: Callable[[GatewayConnectError], object]) -> Callable[[], None]:
        """Hear every failure, refusal and listener error; returns the unsubscribe callable."""
        return self._errors.add(listener)

    def on_snapshot(self, listener: Callable[[SessionSnapshot], object]) -> Callable[[], None]:
        return self._snapshots.add(listener)

    def checkpoint(self) -> Optional[Checkpoint]:
        """Where this client stands, to store after handling an event and pass back as
        ``resume=`` after a restart; None before the first join."""
        session = self._tracker.session_id
        return None if session is None else Checkpoint(session, self._tracker.epoch, self._tracker.cursor)

    @property
    def state(self) -> ClientState:
        return self._state

    @property
    def url(self) -> Optional[str]:
        """The node of the current (or last) attempt (``info.url``); before the first attempt, the
        URL given when it is one string, else None. ``http(s)`` shows as ``ws(s)``."""
        return self._urls.current if self._urls.current is not None else self._urls.fixed

    @property
    def info(self) -> ClientInfo:
        c = self._machine.context
        last = c.last_close
        return ClientInfo(
            protocol=c.protocol,
            session_id=self._tracker.session_id,
            cursor=self._tracker.cursor,
            epoch=self._tracker.epoch,
            presence=self._handshake["presence"],
            health=self._handshake["health"],
            features=self._handshake["features"],
            policy=self._handshake["policy"],
            attempt=c.attempt,
            retry_in=None if c.retry_in_ms is None else c.retry_in_ms / 1000,
            last_close=None if last is None else CloseInfo(last["code"], last["reason"]),
            last_error=self._last_cause,
            resume=self._tracker.resume,
            outage=c.outage,  # type: ignore[arg-type]
            state_path=self._machine.value,
            url=self._urls.current,
        )

    @property
    def listener_errors(self) -> int:
        """How many listener calls raised (each was reported to ``on_error``)."""
        return self._listener_errors

    # -- chart ports -------------------------------------------------------------------------------

    def open_socket(self, handshake: str, attempt: int) -> None:
        loop = asyncio.get_running_loop()
        last = self._machine.context.last_close
        # What the url function is told: the chart's facts as this attempt starts.
        connection = _Connection(attempt, None if last is None else CloseInfo(last["code"], last["reason"]), handshake, loop.time())
        self._connection = connection
        connection.task = loop.create_task(self._run_socket(connection))
        self._closing.add(connection.task)
        connection.task.add_done_callback(self._closing.discard)

    def close_socket(self) -> None:
        connection = self._connection
        self._connection = None
        if connection is None or not connection.live:
            return
        connection.live = False
        if connection.task is not None and not connection.task.done():
            connection.task.cancel()

    def terminate_socket(self) -> None:
        if self._connection is not None:
            self._connection.suspect_dead = True

    def flush_outbox(self) -> None:
        self._message_retries.cancel_all()
        self._outbox.flush(self._write_message, self._handshake["acks"], self._max_payload())
        if self._resync_waiters:
            self._request_snapshot()

    def start_heartbeat(self, heartbeat_ms: float) -> None:
        self._stop_heartbeat_task()
        # 0 means the gateway does not ping: no watchdog rather than false alarms.
        if heartbeat_ms > 0 and self._connection is not None:
            connection = self._connection
            self._heartbeat = Watchdog(connection, heartbeat_ms / 1000, lambda frame: self._write(connection, frame), lambda: self._heartbeat_missed(connection))

    def stop_heartbeat(self) -> None:
        self._stop_heartbeat_task()

    def probe_liveness(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.probe()

    # -- internals -----------------------------------------------------------------------------

    def _resend_message(self, message_id: str) -> None:
        if self._state == "joined":
            self._outbox.write_one(message_id, self._write_message, self._handshake["acks"])

    def _schedule(self, ms: float, callback: Callable[[], None]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(max(0.0, ms) / 1000, callback)

    def _on_change(self, machine: Lifecycle) -> None:
        error = machine.context.error
        if error is not None and error is not self._last_error:
            self._emit_error(error_from_data(error))
        self._last_error = error
        context = machine.context
        if error is not None:
            self._last_failure = error_from_data(error)
        if context.attempt > self._last_attempt and context.last_close is not None and context.last_close["reason"] == "handshake_timeout":
            # A socket that never answered has no cause of its own to report: say what timed out.
            self._handshake_timed_out(context.handshake_timeout_ms / 1000)
        if context.attempt > self._last_attempt:
            self._failed_attempts += context.attempt - self._last_attempt
            self._connect_waiters.failed()
        self._last_attempt = context.attempt
        state = public_state(machine)
        if state == self._state:
            return
        self._state = state
        self._states.emit(state)
        if state == "joined":
            self._reported_cause = None
            self._connect_waiters.settle(None)
        if state == "disconnected" and error is not None:
            self._stop_with(error_from_data(error))

    def _emit_error(self, error: GatewayConnectError) -> None:
        self._errors.emit(error)

    def _attempt_failed(self, error: GatewayConnectError) -> None:
        """A failed attempt's cause: kept for ``connect_timeout``'s message, and reported."""
        self._last_failure = error
        self._emit_error(error)

    def _gave_up(self, waited: float, failures: int) -> GatewayConnectError:
        """The ``connect_timeout`` of a ``connect()`` whose deadline or failure budget ran out."""
        last = self._last_failure
        cause = "no attempt has failed yet" if last is None else f"last cause: {last.message}"
        error = GatewayConnectError(
            "connect_timeout",
            f"connect() gave up after {waited:.1f} s and {failures} failed attempts ({cause}). The client keeps trying until disconnect().",
            "wait_then_retry" if last is None else last.next_step,
            close_code=None if last is None else last.close_code,
        )
        error.__cause__ = last
        return error

    def _handshake_timed_out(self, seconds: float) -> None:
        """The attempt ran out of ``handshake_timeout`` (4008): reported as the TypeScript client does."""
        error = GatewayConnectError(
            "connect_failed",
            f"No answer within handshake_timeout ({seconds:g} s): the socket did not open or the gateway did not answer hello. "
            "A firewall may drop the packets, or the gateway is overloaded. The client retries.",
            "wait_then_retry",
            close_code=CLOSE_HANDSHAKE_TIMEOUT,
        )
        self._last_cause = error
        self._attempt_failed(error)

    def _listener_failed(self, cause: BaseException, kind: str) -> None:
        self._listener_errors += 1
        if self._reporting:
            return  # a listener error while reporting a listener error stops here
        self._reporting = True
        try:
            error = GatewayConnectError("listener_error", f"An {kind} listener raised: {cause!r}", "do_not_retry")
            error.__cause__ = cause
            self._errors.emit(error)
        finally:
            self._reporting = False

    def _deliver(self, event: GatewayEvent) -> bool:
        if not self._streams.push(event):
            return False
        self._events.emit(event)
        return True

    def _stop_with(self, error: GatewayConnectError, streams_raise: bool = True) -> None:
        """The client stopped (terminal error, or the user): settle everything that waits."""
        self._connect_waiters.settle(error)
        self._message_retries.cancel_all()
        self._outbox.reject_all(error)
        waiters, self._resync_waiters = self._resync_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(error)
        self._streams.finish(error if streams_raise else None)

    def _stop_heartbeat_task(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None

    def _heartbeat_missed(self, connection: _Connection) -> None:
        self._heartbeat = None
        if connection.live:
            self._machine.send({"type": "heartbeat.missed"})

    def _max_payload(self) -> Optional[int]:
        """The gateway's ``policy.max_payload`` (UTF-8 bytes of a frame), None when not announced."""
        policy = self._handshake["policy"]
        limit = policy.get("max_payload") if isinstance(policy, dict) else None
        return limit if isinstance(limit, int) else None

    def _write_message(self, frame: Dict[str, Any]) -> bool:
        connection = self._connection
        if connection is None or not connection.open or not connection.live:
            return False
        connection.outgoing.put_nowait(json.dumps(frame, separators=(",", ":"), ensure_ascii=False))
        return True

    def _write(self, connection: _Connection, frame: Dict[str, Any]) -> bool:
        if not connection.live or not connection.open:
            return False
        connection.outgoing.put_nowait(json.dumps(frame, separators=(",", ":"), ensure_ascii=False))
        return True

    def _request_snapshot(self) -> None:
        if not self._handshake["resync"]:
            waiters, self._resync_waiters = self._resync_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(GatewayConnectError("configuration_error", NO_RESYNC))
            return
        if self._connection is not None:
            self._write(self._connection, {"type": "resync"})

    async def _resolve_token(self) -> Optional[str]:
        token = self._token
        if token is None or isinstance(token, str):
            return token
        value = token()
        if inspect.isawaitable(value):
            value = await value
        if value is not None and not isinstance(value, str):
            raise TypeError(f"the token function returned {type(value).__name__}, not str")
        return value

    def _handshake_frame(self, mode: str, token: Optional[str]) -> Dict[str, Any]:
        resume = self._tracker.resume_request()
        low, high = self._protocol
        if mode == "join":
            frame: Dict[str, Any] = {"type": "join", "agent_id": self.agent_id, "min_version": low, "max_version": high, **resume}
        else:
            frame = {"type": "hello", "agent_id": self.agent_id, "protocol_min": low, "protocol_max": high, "capabilities": list(self._capabilities), **resume}
        if token is not None:
            frame["token"] = token
        return frame

    def _closed(self, connection: _Connection, code: int, reason: str) -> None:
        """Report the end of a connection to the chart, once, if it is still the live one."""
        if not connection.live:
            return
        connection.live = False
        if self._connection is connection:
            self._connection = None
        # 4040: the session is gone; the next handshake starts a new one and reports the gap.
        if code == CLOSE_SESSION_EXPIRED:
            self._tracker.forget_session()
        # "Too big" from a gateway that announced no limit, or from a proxy in front with a smaller
        # one: the largest frame in flight caused it. Resending it after the rejoin would loop forever.
        if close_means_too_big(code):
            self._outbox.refuse_largest_in_flight(code)
        self._machine.send({"type": "socket.closed", "code": code, "reason": reason})

    def _failed_attempt(self, connection: _Connection, cause: Exception) -> str:
        """Keep the cause of a failed attempt and report it once per distinct cause: before the
        socket opened it is ``connect_failed``, in the TypeScript client's words (a refused port, a
        name that does not resolve, an HTTP answer instead of the upgrade, TLS); after, the
        connection dropped. Returns the cause in a few words: the close reason the chart records."""
        self._last_cause = cause
        code, message = cause_of(cause)
        if connection.open:
            error = GatewayConnectError("connection_lost", connection.shown(f"The connection dropped ({code or message})."), "wait_then_retry")
            short = connection.shown(code or message[:64])
        else:
            opened = connection.placement.url if connection.placement is not None else (connection.url or "")
            error, short = describe_failure(code, connection.shown(message), opened, CLOSE_ABNORMAL)
        error.__cause__ = cause
        self._last_failure = error
        if error.message != self._reported_cause:
            self._reported_cause = error.message
            self._emit_error(error)
        return short

    async def _run_socket(self, connection: _Connection) -> None:
        """One socket, from open to close: the body of the chart's ``socket`` actor."""
        ws: Any = None
        code, reason = CLOSE_ABNORMAL, ""
        try:
            url = await self._pick_url(connection)
            if url is None:
                return
            try:
                token = connection.token = await self._resolve_token()
            except Exception as cause:  # noqa: BLE001 - the app's function may fail any way
                # A counted, backed-off failure; the next attempt calls the function again.
                error = GatewayConnectError("token_unavailable", f"The token function failed: {cause!r}", "wait_then_retry")
                error.__cause__ = cause
                self._last_cause = cause
                self._attempt_failed(error)
                self._closed(connection, CLOSE_ABNORMAL, "token function failed")
                return
            # `websockets.connect` is the client in 10.4 and in today's release alike (loaded lazily,
            # which type checkers cannot see).
            # The token goes in hello.token, and in ?token= too on a /ws URL (PraisonAI reads only that).
            connection.placement = place_token(url, token)
            ws = await websockets.connect(  # type: ignore[attr-defined]
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
            connection.ws = ws
            if not connection.live:
                return
            connection.open = True
            loop = asyncio.get_running_loop()
            connection.last_seen = loop.time()
            router = FrameRouter(_RouterTarget(self, connection), connection.handshake, self._protocol)
            writer = loop.create_task(self._pump(connection, ws))
            try:
                self._write(connection, self._handshake_frame(connection.handshake, token))
                self._machine.send({"type": "socket.opened"})
                while connection.live:
                    message = await ws.recv()
                    if not connection.live:
                        break
                    connection.last_seen = loop.time()
                    if isinstance(message, str):
                        router.route(message)
                    else:
                        self._emit_error(GatewayConnectError("bad_server_frame", "Binary frames are not part of the protocol."))
            finally:
                writer.cancel()
                await asyncio.gather(writer, return_exceptions=True)
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
            reason = self._failed_attempt(connection, cause)
        finally:
            await _close_socket(ws, connection.suspect_dead)
            self._closed(connection, code, reason)

    def _frame_too_large(self) -> None:
        error = GatewayConnectError(
            "bad_server_frame",
            f"The gateway sent a frame over {MAX_SERVER_FRAME_BYTES} bytes (MAX_SERVER_FRAME_BYTES), refused before it was read. "
            "The connection was closed; the client resumes from its cursor with backoff.",
            "wait_then_retry",
            close_code=CLOSE_BAD_FRAME,
        )
        self._last_cause = error
        self._emit_error(error)

    async def _pick_url(self, connection: _Connection) -> Optional[str]:
        """This attempt's node. A url function that fails is a counted, backed-off failure, as a
        refused connection is (``connect_failed``); None then, and the connection is closed."""
        try:
            url = connection.url = await self._urls.next(connection.attempt, connection.last_close)
            return url
        except GatewayConnectError as error:
            self._last_cause = error.__cause__ if isinstance(error.__cause__, Exception) else error
            self._attempt_failed(error)
            self._closed(connection, CLOSE_ABNORMAL, "no gateway url")
            return None

    async def _pump(self, connection: _Connection, ws: Any) -> None:
        """Write queued frames in order (``write`` is synchronous for the outbox and the router)."""
        while True:
            text = await connection.outgoing.get()
            try:
                await ws.send(text)
            except ConnectionClosed:
                return

    def _overflow(self) -> None:
        """An ``events()`` loop is ``max_buffered_events`` behind: leave the gateway (the chart's
        ``consumer.overflow``, not a failure); the rejoin resumes from the cursor once it drains."""
        if not self._machine.matches("joined"):
            return
        self._machine.send({"type": "consumer.overflow"})
        self._emit_error(
            GatewayConnectError(
                "consumer_overflow",
                f"An events() loop is {self._streams.buffered} events behind (max_buffered_events); the client left the gateway "
                f"and rejoins from its cursor once the loop is down to {self._streams.max_buffered // 2}. Nothing is lost.",
                "wait_then_retry",
            )
        )

    def _drained(self) -> None:
        # Only a pause waits for this; after the app's own connect() it is old news.
        if self._machine.matches("reconnecting.backpressure"):
            self._machine.send({"type": "consumer.drained"})

    def _early_dropped(self, count: int) -> None:
        self._emit_error(
            GatewayConnectError(
                "events_dropped",
                f"{count} events arrived before any events() loop or on_event listener and were not kept (max_buffered_events); "
                "a later events() loop starts from the next event.",
                "do_not_retry",
            )
        )


class _RouterTarget:
    """Where one socket's router sends what it reads."""

    def __init__(self, client: GatewayClient, connection: _Connection) -> None:
        self._client = client
        self._connection = connection
        self.tracker = client._tracker

    def send(self, frame: Dict[str, Any]) -> None:
        self._client._write(self._connection, frame)

    def lifecycle(self, event: Dict[str, Any]) -> None:
        if self._connection.live:
            self._client._machine.send(self._refusal_seen(event) if event["type"] == "hello.rejected" else event)

    def _refusal_seen(self, event: Dict[str, Any]) -> Dict[str, Any]:
        """A refusal never quotes the token; after ``auth_required`` it says where this attempt
        sent one (a gateway that reads only ``?token=`` looks like one that got none)."""
        message = self._connection.shown(str(event["message"]))
        placement = self._connection.placement
        if event["code"] == "auth_required" and placement is not None:
            message = f"{message} {auth_required_hint(placement)}"
        return {**event, "message": message}

    def send_join(self) -> None:
        self._client._write(self._connection, self._client._handshake_frame("join", self._connection.token))

    def accepted(self, frame: Dict[str, Any]) -> None:
        features = frame.get("features") if frame["type"] == "hello_ok" else None
        extensions = (features or {}).get("extensions") or []
        self._client._handshake = {
            "features": features,
            "policy": frame.get("policy"),
            "presence": frame.get("presence") or [] if frame["type"] == "hello_ok" else [],
            "health": frame.get("health") if frame["type"] == "hello_ok" else None,
            "acks": "ack" in extensions,
            # Legacy gateways list no methods; try, since their join path may answer resync.
            "resync": features is None or "resync" in (features.get("methods") or []) or "snapshot" in extensions,
        }

    def ack(self, message_id: str, duplicate: bool) -> None:
        self._client._outbox.ack(message_id, duplicate)

    def message_error(self, message_id: str, error: GatewayConnectError) -> None:
        self._client._outbox.fail(message_id, error)
        self._client._emit_error(error)

    def message_retry(self, message_id: str, after_ms: float) -> None:
        self._client._message_retries.schedule(message_id, after_ms)

    def snapshot(self, state: Any, cursor: int, epoch: Optional[str]) -> None:
        snapshot = SessionSnapshot(state, cursor, epoch)
        waiters, self._client._resync_waiters = self._client._resync_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(snapshot)
        self._client._snapshots.emit(snapshot)

    def error(self, error: GatewayConnectError) -> None:
        self._client._emit_error(error)

    def overflow(self) -> None:
        self._client._overflow()


FRAME_TOO_LARGE = "frame_too_large"
"""The close reason recorded when the gateway sent a frame over ``MAX_SERVER_FRAME_BYTES``."""


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


def _validate(
    url: GatewayUrl,
    agent_id: str,
    token: Token,
    reconnect: Union[Backoff, bool],
    protocol: Tuple[int, int],
    capabilities: Tuple[str, ...],
    handshake_timeout: float,
    outbox_max_messages: int,
    max_buffered_events: int,
) -> None:
    """``invalid_options`` up front beats a confusing failure deep inside a reconnect loop."""

    def fail(message: str) -> None:
        raise GatewayConnectError("invalid_options", message, "do_not_retry")

    url_problem = gateway_url_problem(url)
    if url_problem is not None:
        fail(url_problem)
    if not isinstance(agent_id, str) or agent_id == "":
        fail("agent_id must be a non-empty string.")
    if token is not None and not isinstance(token, str) and not callable(token):
        fail("token must be a string, None, or a function returning one.")
    if not isinstance(reconnect, (Backoff, bool)):
        fail("reconnect must be a Backoff, True or False.")
    if isinstance(reconnect, Backoff):
        if reconnect.initial < 0 or reconnect.max < 0 or reconnect.multiplier < 1 or not 0 <= reconnect.jitter <= 1 or reconnect.min_uptime < 0:
            fail(f"reconnect has an out-of-range field: {reconnect!r}.")
        if reconnect.max_attempts is not None and reconnect.max_attempts < 0:
            fail("reconnect.max_attempts must be >= 0 or None.")
    low, high = protocol
    if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
        fail(f"protocol must be two integers with 0 <= min <= max; got {protocol!r}.")
    if isinstance(capabilities, str) or not all(isinstance(c, str) for c in capabilities):
        fail("capabilities must be a tuple of strings.")
    if PRAISONAI_MARKER in capabilities:
        # A gateway in ``auto`` dialect would answer it in PraisonAI's frames.
        fail(
            f'capabilities must not list "{PRAISONAI_MARKER}": it marks a PraisonAI client, and a Lifeline gateway '
            "would answer in PraisonAI's frames (PROTOCOL.md section 8). Leave it out; this client reads those "
            "frames from a PraisonAI gateway without it."
        )
    if not handshake_timeout > 0:
        fail("handshake_timeout must be > 0 seconds.")
    if not (isinstance(outbox_max_messages, int) and outbox_max_messages >= 1):
        fail("outbox_max_messages must be an integer >= 1.")
    if not (isinstance(max_buffered_events, int) and max_buffered_events >= 1):
        fail("max_buffered_events must be an integer >= 1.")
