"""The lifecycle chart's implementations, under the chart's names: its context, guards, actions,
delays, and ``Lifecycle``, the chart (lifecycle_table.py) running on the
general interpreter (statechart.py). Side effects (socket, heartbeat, outbox) are ports, inert by
default, like the TypeScript chart's actors. Over 300 lines because every named implementation of
the chart stays in one place, as in machines/gateway-machine.ts, so the two read side by side."""
from __future__ import annotations

import functools
import math
import random as _random
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Literal, Optional, Tuple, Union

from .backoff import RetryTier, counts_as_failure, plan_retry, resolve_reconnect_options
from .lifecycle_ports import InertPorts, LifecyclePorts
from .lifecycle_table import STATES, TRANSITIONS, StateDef, TransitionDef
from .protocol import (
    CLOSE_BAD_FRAME,
    CLOSE_CODE_FOR_ERROR,
    CLOSE_GOING_AWAY,
    CLOSE_HANDSHAKE_TIMEOUT,
    CLOSE_LIVENESS_TIMEOUT,
    CLOSE_NORMAL,
    SERVER_WAIT_CLOSE_CODES,
    classify_close,
    default_next_step,
    is_terminal,
)
from .statechart import ChartEvent, Implementations, Scheduler, Statechart, TimerHandle, no_timers

__all__ = ["InertPorts", "Lifecycle", "LifecyclePorts", "Scheduler", "TimerHandle"]


DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000


@dataclass
class ChartContext:
    """The chart's context: lifecycle facts only (the TypeScript ``GatewayContext``)."""

    reconnect: Union[Dict[str, float], "Literal[False]"]
    handshake_timeout_ms: float = DEFAULT_HANDSHAKE_TIMEOUT_MS
    attempt: int = 0
    retry_in_ms: Optional[float] = None
    backoff_left_ms: float = 0
    """What is left of the backoff wait when a probe cut it short: the next failure waits it out uncounted."""
    last_close: Optional[Dict[str, Any]] = None
    failure: Optional[Dict[str, Any]] = None
    """The last failed attempt the chart counted: ``{"count": failures counted since the start (never reset),
    "cause": what ended it}``; a cause of ``handshake_timeout`` is the chart's own timer, never a gateway's close."""
    error: Optional[Dict[str, Any]] = None
    handshake: str = "hello"
    protocol: Optional[int] = None
    heartbeat_ms: float = 0
    online: bool = True
    outage: str = "none"
    token_refresh: str = "off"
    """Whether an auth refusal may be answered with one fresh token: ``off`` (a fixed token), ``ready`` or ``used``."""
    """The outage's age: ``none``, ``probing`` (the probe window after a joined connection dropped),
    ``young`` (short cap) or ``old`` (past ``suspendAfterMs``: ``suspended``)."""
    random: Callable[[], float] = field(default=_random.random, repr=False)

    def as_vector(self) -> Dict[str, Any]:
        """The fields the exported vectors record, with the TypeScript names."""
        return {
            "attempt": self.attempt,
            "retryInMs": self.retry_in_ms,
            "backoffLeftMs": self.backoff_left_ms,
            "lastClose": self.last_close,
            "failure": self.failure,
            "error": self.error,
            "handshake": self.handshake,
            "protocol": self.protocol,
            "heartbeatMs": self.heartbeat_ms,
            "online": self.online,
            "outage": self.outage,
            "tokenRefresh": self.token_refresh,
        }


_FAILURE_CAUSES = {"socket.closed": "closed", "hello.rejected": "refused", "draining": "draining", "heartbeat.missed": "heartbeat_missed"}
"""The events a counted failure follows, and what each says ended the attempt (``failureOf`` in the chart)."""


def failure_of(c: ChartContext, e: ChartEvent) -> Dict[str, Any]:
    """The failure ``countFailure`` records. The one other event that counts a failure is the
    ``handshakeTimeout`` timer's ``after`` event: the chart's own handshake timer."""
    count = 1 if c.failure is None else c.failure["count"] + 1
    return {"count": count, "cause": _FAILURE_CAUSES.get(str(e["type"]), "handshake_timeout")}


def _close(code: int, reason: str) -> Dict[str, Any]:
    return {"code": code, "reason": reason}


def _close_code_for(code: str) -> int:
    return CLOSE_CODE_FOR_ERROR.get(code, CLOSE_BAD_FRAME)


def _error_for_close(code: int, reason: str) -> Dict[str, Any]:
    wire = next((name for name, close in CLOSE_CODE_FOR_ERROR.items() if close == code), "connection_lost")
    return {"code": wire, "message": reason or f"Closed with {code}.", "nextStep": default_next_step(wire), "closeCode": code}


def _max_attempts(c: ChartContext) -> float:
    return 0 if c.reconnect is False else c.reconnect["maxAttempts"]


def _tier(c: ChartContext) -> RetryTier:
    """The schedule a failure follows now: an outage that has not started yet waits as a young one."""
    if c.outage == "probing":
        return "probing"
    return "old" if c.outage == "old" else "young"


def _retry_plan(c: ChartContext, attempt: int, floor_ms: float = 0) -> Tuple[float, float]:
    """The wait and the backoff left after it, in the outage's tier (``retryPlanFor`` in the chart)."""
    if c.reconnect is False:
        return plan_retry(attempt, 0, "young", {}, c.random, floor_ms)
    return plan_retry(attempt, c.backoff_left_ms, _tier(c), c.reconnect, c.random, floor_ms)


def _attempt_after_failure(c: ChartContext) -> int:
    """A probe that failed (a backoff wait still left) is not counted."""
    return c.attempt + 1 if counts_as_failure(c.backoff_left_ms) else c.attempt


def _armed_refresh(c: ChartContext) -> str:
    return "off" if c.token_refresh == "off" else "ready"


def _js_number(value: float) -> Union[int, float]:
    """Whole floats as ints, so the context reads like the TypeScript one (2000, not 2000.0)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Guard = Callable[[ChartContext, ChartEvent], bool]
Action = Callable[["Lifecycle", ChartEvent], None]

GUARDS: Dict[str, Guard] = {
    "isOffline": lambda c, e: not c.online,
    "outageIsOld": lambda c, e: c.outage == "old",
    "reconnectDisabled": lambda c, e: c.reconnect is False,
    "isTerminalRejection": lambda c, e: e["type"] == "hello.rejected" and is_terminal(e["code"], e.get("nextStep")),
    "isFatalClose": lambda c, e: e["type"] == "socket.closed" and classify_close(e["code"]) in ("give_up", "reauthenticate"),
    "outageIsNone": lambda c, e: c.outage == "none",
    # Only the first of these closes since a stable join is prompt and uncounted: a gateway that
    # accepts and closes at once gets the normal backoff from the second on.
    "isPromptCloseOutsideOutage": lambda c, e: c.outage == "none" and e["type"] == "socket.closed" and classify_close(e["code"]) == "reconnect_now",
    "mayRefreshToken": lambda c, e: c.token_refresh == "ready"
    and (
        (e["type"] == "hello.rejected" and e.get("nextStep") == "reauthenticate")
        or (e["type"] == "socket.closed" and classify_close(e["code"]) == "reauthenticate")
    ),
    "retriesExhausted": lambda c, e: _attempt_after_failure(c) > _max_attempts(c),
    "mayRetryEarly": lambda c, e: c.last_close is None or c.last_close["code"] not in SERVER_WAIT_CLOSE_CODES,
}
"""The chart's guards, by name."""


def _set(**changes: Any) -> Action:
    def action(m: "Lifecycle", e: ChartEvent) -> None:
        for key, value in changes.items():
            setattr(m.context, key, value(m.context, e) if callable(value) else value)

    return action


def _record_rejection(m: "Lifecycle", e: ChartEvent) -> None:
    close = _close_code_for(e["code"])
    m.context.last_close = _close(close, e["message"])
    error: Dict[str, Any] = {"code": e["code"], "message": e["message"], "nextStep": e["nextStep"], "closeCode": close}
    if e.get("retryAfterMs") is not None:
        error["retryAfterMs"] = e["retryAfterMs"]
    m.context.error = error


def _record_retries_exhausted(m: "Lifecycle", e: ChartEvent) -> None:
    c = m.context
    close = {} if c.last_close is None else {"closeCode": c.last_close["code"]}
    if c.reconnect is False:
        c.error = {"code": "connection_lost", "message": "The connection closed and reconnect is off.", "nextStep": default_next_step("connection_lost"), **close}
    else:
        retries = int(_max_attempts(c))  # finite here: an infinite budget never runs out
        message = f"Gave up after {c.attempt + 1} failed attempts in a row (the first attempt and reconnect.maxAttempts = {retries} retries)."
        c.error = {"code": "retries_exhausted", "message": message, "nextStep": default_next_step("retries_exhausted"), **close}


def _server_wait(e: ChartEvent) -> float:
    """A wait the gateway asked for: a rejection's ``retry_after_seconds`` or a drain's hint."""
    if e["type"] == "hello.rejected":
        return e.get("retryAfterMs") or 0
    return max(0, e.get("reconnectAfterMs") or 0) if e["type"] == "draining" else 0


def _plan_backoff(m: "Lifecycle", e: ChartEvent) -> None:
    wait, left = _retry_plan(m.context, m.context.attempt, _server_wait(e))
    m.context.retry_in_ms = _js_number(wait)
    m.context.backoff_left_ms = _js_number(left)


def _plan_drain_retry(m: "Lifecycle", e: ChartEvent) -> None:
    m.context.retry_in_ms = max(0, e.get("reconnectAfterMs") or 0) if e["type"] == "draining" else 0
    m.context.last_close = _close(CLOSE_GOING_AWAY, "draining")


def _start_outage_clock(m: "Lifecycle", e: ChartEvent) -> None:
    """The first lost connection or failed attempt of an outage starts its clock; later ones leave it running."""
    if m.context.outage != "none":
        return
    m.context.outage = "young"
    m.start_clock(OUTAGE_CLOCK, DELAYS["suspendAfter"](m.context), {"type": "outage.aged"})


def _start_probing(m: "Lifecycle", e: ChartEvent) -> None:
    """A joined connection dropped: the outage starts with the probe window. Within an outage already running, a no-op."""
    c = m.context
    if c.outage != "none":
        return
    probing = c.reconnect is not False and c.reconnect["probeWindowMs"] > 0
    c.outage = "probing" if probing else "young"
    if probing:
        m.start_clock(PROBE_CLOCK, DELAYS["probeWindow"](c), {"type": "outage.probed"})
    m.start_clock(OUTAGE_CLOCK, DELAYS["suspendAfter"](c), {"type": "outage.aged"})


def _end_probing(m: "Lifecycle", e: ChartEvent) -> None:
    """A connection opened: a failure after this costs the gateway a join, so it counts. Probing ends; no backoff is carried."""
    m.context.backoff_left_ms = 0
    if m.context.outage != "probing":
        return
    m.cancel_clock(PROBE_CLOCK)
    m.context.outage = "young"


def _end_outage(m: "Lifecycle", e: ChartEvent) -> None:
    """A stable join or a stop ends the outage: the next one starts afresh."""
    m.cancel_clock(PROBE_CLOCK)
    m.cancel_clock(OUTAGE_CLOCK)
    m.context.outage = "none"


OUTAGE_CLOCK = "outageClock"
"""Id of the delayed ``outage.aged`` event: it outlives the states an outage passes through."""
PROBE_CLOCK = "probeClock"
"""Id of the delayed ``outage.probed`` event, which ends the probe window."""


ACTIONS: Dict[str, Action] = {
    "openSocket": lambda m, e: m.ports.open_socket(m.context.handshake, m.context.attempt),  # noqa: E501
    "closeSocket": lambda m, e: m.ports.close_socket(),
    # The peer presumably cannot answer a closing handshake: the next close is an abort.
    "terminateSocket": lambda m, e: m.ports.terminate_socket(),
    # Browser online/offline/visibility signals: none exist outside a browser.
    "watchBrowserSignals": lambda m, e: None,
    "unwatchBrowserSignals": lambda m, e: None,
    "recordClose": _set(
        last_close=lambda c, e: _close(e["code"], e["reason"])
        if e["type"] == "socket.closed"
        else (_close(_close_code_for(e["code"]), e["message"]) if e["type"] == "hello.rejected" else None)
    ),
    # Spend the one refresh; the next socket's attempt calls the token function again.
    "refreshToken": _set(token_refresh="used"),
    # A new start by the app, or a stable join: one fresh-token retry is available again.
    "armTokenRefresh": _set(token_refresh=lambda c, e: _armed_refresh(c)),
    "countFailure": _set(attempt=lambda c, e: _attempt_after_failure(c), failure=lambda c, e: failure_of(c, e)),
    "resetAttempts": _set(attempt=0, backoff_left_ms=0),
    "clearError": _set(error=None),
    "planBackoff": _plan_backoff,
    "planPromptRetry": _set(retry_in_ms=lambda c, e: _js_number(_retry_plan(c, 1)[0]), backoff_left_ms=0),
    "planDrainRetry": _plan_drain_retry,
    "clearRetry": _set(retry_in_ms=None),
    "recordRejection": _record_rejection,
    "recordFatalClose": _set(error=lambda c, e: _error_for_close(e["code"], e["reason"]) if e["type"] == "socket.closed" else None),
    "recordRetriesExhausted": _record_retries_exhausted,
    "recordHandshakeTimeout": _set(last_close=_close(CLOSE_HANDSHAKE_TIMEOUT, "handshake_timeout")),
    "recordHeartbeatMiss": _set(last_close=_close(CLOSE_LIVENESS_TIMEOUT, "heartbeat_timeout")),
    "recordOverflow": _set(last_close=_close(CLOSE_NORMAL, "consumer_overflow")),
    "recordUserClose": _set(last_close=_close(CLOSE_NORMAL, "client disconnect"), error=None),
    "recordAccepted": _set(
        protocol=lambda c, e: e["protocol"] if e["type"] == "hello.accepted" else None,
        heartbeat_ms=lambda c, e: e["heartbeatMs"] if e["type"] == "hello.accepted" else 0,
    ),
    "useLegacyHandshake": _set(handshake="join"),
    "recordOnline": _set(online=True),
    "recordOffline": _set(online=False),
    "flushOutbox": lambda m, e: m.ports.flush_outbox(),
    "startOutageClock": _start_outage_clock,
    "startProbing": _start_probing,
    "endProbing": _end_probing,
    "recordOutageProbed": _set(outage=lambda c, e: "young" if c.outage == "probing" else c.outage),
    "recordOutageAged": _set(outage="old"),
    "endOutage": _end_outage,
    # Joined: the heartbeat watchdog runs on this connection (the TypeScript client runs it inside its socket actor).
    "watchLiveness": lambda m, e: m.ports.start_heartbeat(m.context.heartbeat_ms),
    "unwatchLiveness": lambda m, e: m.ports.stop_heartbeat(),
    "probeLiveness": lambda m, e: m.ports.probe_liveness(),
    # Each node's transport and the probe back to the preferred one: this client has one transport (its HTTP one comes later, #21) and goes round its URL list in its picker, so these change nothing, as with transports=['websocket'].
    **dict.fromkeys(("recordTransportFailure", "recordTransportOpened", "recordTransportJoined", "markTransportRetryDue", "moveToNextNode", "retryPreferredTransport", "stopTransportRetry", "probePreferredTransport", "stopTransportProbe", "recordTransportUpgrade", "recordTransportProbeFailed"), lambda m, e: None),
}
"""The chart's actions, by name; context changes apply in order, as XState v5 ``assign`` does."""

DELAYS: Dict[str, Callable[[ChartContext], float]] = {
    "handshakeTimeout": lambda c: c.handshake_timeout_ms,
    "retryDelay": lambda c: c.retry_in_ms or 0,
    "stableUptime": lambda c: 0 if c.reconnect is False else c.reconnect["minUptimeMs"],
    "suspendAfter": lambda c: 0 if c.reconnect is False else c.reconnect["suspendAfterMs"],
    "probeWindow": lambda c: 0 if c.reconnect is False else c.reconnect["probeWindowMs"],
}
"""The chart's named delays, in ms."""

INVOKES: Tuple[str, ...] = ()
"""Actors the chart invokes: started on entry of their state, stopped on exit. None: the heartbeat
watchdog is started and stopped by the ``watchLiveness`` and ``unwatchLiveness`` actions."""


class Lifecycle(Statechart[ChartContext]):
    """The lifecycle chart, running: the chart's implementations bound to this machine and its ports."""

    def __init__(
        self,
        context: ChartContext,
        scheduler: Scheduler,
        ports: Optional[LifecyclePorts] = None,
        on_change: Optional[Callable[["Lifecycle"], None]] = None,
        states: Tuple[StateDef, ...] = STATES,
        transitions: Tuple[TransitionDef, ...] = TRANSITIONS,
    ) -> None:
        self.ports: LifecyclePorts = ports or InertPorts()
        implementations = Implementations(
            guards=GUARDS,
            actions={name: functools.partial(action, self) for name, action in ACTIONS.items()},
            delays=DELAYS,
            invokes={},
        )
        changed: Optional[Callable[[Statechart[ChartContext]], None]] = None
        if on_change is not None:
            report = on_change
            changed = lambda _: report(self)  # noqa: E731 - the owner hears about its Lifecycle
        super().__init__(context, implementations, states, transitions, scheduler, changed)

    @staticmethod
    def create(
        reconnect: Union[Dict[str, float], bool, None] = None,
        handshake_timeout_ms: Optional[float] = None,
        online: bool = True,
        random: Callable[[], float] = _random.random,
        refreshable_token: bool = False,
        scheduler: Optional[Scheduler] = None,
        ports: Optional[LifecyclePorts] = None,
        on_change: Optional[Callable[["Lifecycle"], None]] = None,
    ) -> "Lifecycle":
        """Start the chart with the TypeScript ``GatewayMachineInput`` fields."""
        context = ChartContext(
            reconnect=False if reconnect is False else resolve_reconnect_options(reconnect if isinstance(reconnect, dict) else None),
            handshake_timeout_ms=DEFAULT_HANDSHAKE_TIMEOUT_MS if handshake_timeout_ms is None else handshake_timeout_ms,
            online=online,
            random=random,
            token_refresh="ready" if refreshable_token else "off",
        )
        return Lifecycle(context, scheduler or no_timers, ports, on_change)


def infinite_to_json(value: float) -> Any:
    """``Infinity`` as the exported JSON has it (``null``), for comparisons."""
    return None if isinstance(value, float) and math.isinf(value) else value
