"""The facade: turns method calls into chart events and reads the chart's state. The lifecycle
itself is the table-driven machine (machine.py); the socket actor (socket_actor.py), the heartbeat
and the outbox plug into its ports (chart_ports.py), and this module fans out what the tracker
delivers. Every task it starts is owned and cancelled on ``disconnect()``; time is ``loop.time()``
(monotonic). Over 300 lines because it is one class: the documented public API (about half the
file) and the callbacks that wire the parts together, none of which holds lifecycle logic."""
from __future__ import annotations

import asyncio
import inspect
import random as _random
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Tuple, Union

from .backoff import Backoff
from .connect_waiters import DEFAULT_CONNECT_TIMEOUT, ConnectWaiters
from .chart_ports import ChartPorts
from .connection import SocketHost
from .errors import GatewayConnectError, error_from_data
from .event_stream import DEFAULT_MAX_BUFFERED_EVENTS, EventIterator, EventStreams
from .frames import HelloFrame, JoinFrame
from .gateway_terms import GatewayTerms
from .gateway_urls import GatewayUrl, UrlPicker
from .gap_tracker import GapTracker
from .listeners import ListenerSet, ListenerTasks
from .machine import Lifecycle, TimerHandle
from .message_retries import MessageRetries
from .outbox import DEFAULT_OUTBOX_MAX_MESSAGES, Outbox
from .options import DEFAULT_CAPABILITIES, Token, validate_options
from .outbox_store import OutboxStore
from .protocol import CLOSE_HANDSHAKE_TIMEOUT, CLOSE_SESSION_EXPIRED, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, close_means_too_big
from .socket_actor import DISCONNECT_WAIT, SocketActor
from .types import Checkpoint, ClientInfo, ClientState, CloseInfo, GapInfo, GatewayEvent, SendResult, SessionSnapshot

NO_RESYNC = (
    "This gateway offers no resync method (its hello_ok does not list resync; PraisonAI's does not): the events a gap "
    "reported are gone. Rebuild the state your own way (your app's own store or history), and carry on: later events keep arriving."
)
"""``resync()``'s ``configuration_error`` where the gateway offers none (the TypeScript client's words)."""

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
        validate_options(url, agent_id, token, reconnect, protocol, capabilities, handshake_timeout, outbox_max_messages, max_buffered_events)
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
        self._socket = SocketActor(self._socket_host())
        self._ports = ChartPorts(self._socket, self._open_socket, self._flush_outbox, lambda: self._machine.send({"type": "heartbeat.missed"}))
        self._last_failure: Optional[GatewayConnectError] = None
        # The chart's count of failed attempts (it only grows), for connect(max_failures=).
        self._connect_waiters = ConnectWaiters(self._failures_counted, self._gave_up)
        self._resync_waiters: List["asyncio.Future[SessionSnapshot]"] = []
        self._terms = GatewayTerms()
        self._last_cause: Optional[Exception] = None
        self._reported_cause: Optional[str] = None
        self._state: ClientState = "disconnected"
        self._last_error: Optional[Dict[str, Any]] = None
        self._failures_seen = 0
        options: Union[Dict[str, float], bool, None] = None if reconnect is True else (False if reconnect is False else reconnect.to_options())
        self._machine = Lifecycle.create(
            reconnect=options,
            handshake_timeout_ms=handshake_timeout * 1000,
            random=self._random.random,
            refreshable_token=callable(token),
            scheduler=self._schedule,
            ports=self._ports,
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
        self._ports.stop_heartbeat()
        await self._socket.wait_closed(DISCONNECT_WAIT + 0.5)
        await self._listener_tasks.close()

    async def send(self, content: Any) -> SendResult:
        """Send a message; returns its ack (``id``, ``duplicate``). Kept in the bounded outbox
        until acknowledged and resent with the same id after a rejoin, so it is applied once.
        Raises ``payload_too_large`` up front when it exceeds the gateway's ``max_payload`` (or the
        smaller limit learned from a 1009 close), ``invalid_message`` when it is not JSON."""
        message_id, future = self._outbox.add(content, self._terms.max_payload)
        if message_id and self._state == "joined":
            self._outbox.write_one(message_id, self._socket.write, self._terms.acks)
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
            presence=self._terms.presence,
            health=self._terms.health,
            features=self._terms.features,
            policy=self._terms.policy,
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

    # -- what the chart and the socket actor call ---------------------------------------------

    def _socket_host(self) -> SocketHost:
        """The socket actor's one view of this client."""
        outbox = self._outbox
        return SocketHost(
            tracker=self._tracker,
            protocol=self._protocol,
            next_url=self._urls.next,
            token=self._resolve_token,
            handshake_frame=self._handshake_frame,
            lifecycle=self._machine_send,
            closed=self._closed,
            failed=self._attempt_failed,
            report=self._emit_error,
            report_cause=self._report_cause,
            accepted=self._accepted,
            ack=outbox.ack,
            message_error=self._message_failed,
            message_retry=self._message_retries.schedule,
            snapshot=self._snapshot,
            overflow=self._overflow,
        )

    def _machine_send(self, event: Mapping[str, Any]) -> None:
        self._machine.send(event)

    def _open_socket(self, handshake: str, attempt: int) -> None:
        last = self._machine.context.last_close
        # What the url function is told: the chart's facts as this attempt starts.
        self._socket.open(handshake, attempt, None if last is None else CloseInfo(last["code"], last["reason"]))

    def _flush_outbox(self) -> None:
        self._message_retries.cancel_all()
        self._outbox.flush(self._socket.write, self._terms.acks, self._terms.max_payload)
        if self._resync_waiters:
            self._request_snapshot()

    def _accepted(self, terms: GatewayTerms) -> None:
        self._terms = terms

    def _message_failed(self, message_id: str, error: GatewayConnectError) -> None:
        self._outbox.fail(message_id, error)
        self._emit_error(error)

    def _snapshot(self, snapshot: SessionSnapshot) -> None:
        waiters, self._resync_waiters = self._resync_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(snapshot)
        self._snapshots.emit(snapshot)

    # -- internals -----------------------------------------------------------------------------

    def _resend_message(self, message_id: str) -> None:
        if self._state == "joined":
            self._outbox.write_one(message_id, self._socket.write, self._terms.acks)

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
        failure = context.failure
        if failure is not None and failure["count"] != self._failures_seen:
            self._failures_seen = failure["count"]
            # A socket that never answered has no cause of its own to report: say what timed out.
            if failure["cause"] == "handshake_timeout":
                self._handshake_timed_out(context.handshake_timeout_ms / 1000)
            self._connect_waiters.failed()
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

    def _failures_counted(self) -> int:
        failure = self._machine.context.failure
        return 0 if failure is None else int(failure["count"])

    def _emit_error(self, error: GatewayConnectError) -> None:
        self._errors.emit(error)

    def _attempt_failed(self, error: GatewayConnectError, cause: BaseException, once: bool = False) -> None:
        """A failed attempt's cause: kept for ``info.last_error`` and ``connect_timeout``'s message,
        and reported (with ``once``, once per distinct cause until the next join)."""
        self._last_cause = cause if isinstance(cause, Exception) else error
        self._last_failure = error
        if once and error.message == self._reported_cause:
            return
        if once:
            self._reported_cause = error.message
        self._emit_error(error)

    def _report_cause(self, error: GatewayConnectError) -> None:
        self._last_cause = error
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
        self._attempt_failed(error, error)

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

    def _request_snapshot(self) -> None:
        if not self._terms.resync:
            waiters, self._resync_waiters = self._resync_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(GatewayConnectError("configuration_error", NO_RESYNC))
            return
        self._socket.write({"type": "resync"})

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

    def _handshake_frame(self, mode: str, token: Optional[str]) -> Union[HelloFrame, JoinFrame]:
        resume = self._tracker.resume_request()
        low, high = self._protocol
        frame: Union[HelloFrame, JoinFrame]
        if mode == "join":
            frame = {"type": "join", "agent_id": self.agent_id, "min_version": low, "max_version": high}
        else:
            frame = {"type": "hello", "agent_id": self.agent_id, "protocol_min": low, "protocol_max": high, "capabilities": list(self._capabilities)}
        # In this order on the wire, as the TypeScript client writes them.
        if "session_id" in resume:
            frame["session_id"] = resume["session_id"]
        if "since" in resume:
            frame["since"] = resume["since"]
        if "epoch" in resume:
            frame["epoch"] = resume["epoch"]
        if token is not None:
            frame["token"] = token
        return frame

    def _closed(self, code: int, reason: str) -> None:
        """The live socket ended: what the close says about the session and the outbox, then the chart."""
        # 4040: the session is gone; the next handshake starts a new one and reports the gap.
        if code == CLOSE_SESSION_EXPIRED:
            self._tracker.forget_session()
        # "Too big" from a gateway that announced no limit, or from a proxy in front with a smaller
        # one: the largest frame in flight caused it. Resending it after the rejoin would loop forever.
        if close_means_too_big(code):
            self._outbox.refuse_largest_in_flight(code)
        self._machine.send({"type": "socket.closed", "code": code, "reason": reason})

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
